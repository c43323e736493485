"""Backstage software catalog client: reads Component and Group entities into an ownership Catalog."""

from __future__ import annotations

from typing import Any

import requests

from fleetui.common.errors import PermanentAPIError, RateLimitedError, TransientAPIError
from notifications.ownership.rules import Catalog, add_entity

QUERY_PATH = "/api/catalog/entities/by-query"
LEGACY_PATH = "/api/catalog/entities"
KIND_FILTERS = ("kind=component", "kind=group")


class BackstageClient:
    """GET the catalog page by page: the cursor API, or offset/limit on Backstage versions without it."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout: float = 10,
        *,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()
        self.headers = {"Accept": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.requests_made = 0

    def fetch_catalog(self, *, page_size: int = 500) -> Catalog:
        """Every Component and Group in the catalog, parsed like catalog-info.yaml files."""
        catalog = Catalog()
        try:
            entities = list(self._query_entities(page_size))
        except PermanentAPIError as exc:
            if exc.status != 404:
                raise
            entities = list(self._legacy_entities(page_size))
        for entity in entities:
            add_entity(catalog, entity, origin="backstage")
        return catalog

    def _query_entities(self, page_size: int):
        params: list[tuple[str, Any]] = [("filter", f) for f in KIND_FILTERS] + [("limit", page_size)]
        seen: set[str] = set()
        while True:
            body = self._get(QUERY_PATH, params)
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise PermanentAPIError("by-query answer has no items list", vendor="Backstage")
            yield from items
            cursor = ((body.get("pageInfo") or {}).get("nextCursor")) or ""
            # The cursor encodes the query; a repeated cursor would loop forever.
            if not cursor or cursor in seen:
                return
            seen.add(cursor)
            params = [("cursor", cursor), ("limit", page_size)]

    def _legacy_entities(self, page_size: int):
        offset = 0
        while True:
            params = [("filter", f) for f in KIND_FILTERS] + [("limit", page_size), ("offset", offset)]
            page = self._get(LEGACY_PATH, params)
            if not isinstance(page, list):
                raise PermanentAPIError("entities answer is not a list", vendor="Backstage")
            yield from page
            if len(page) < page_size:
                return
            offset += len(page)

    def _get(self, path: str, params: list[tuple[str, Any]]) -> Any:
        self.requests_made += 1
        try:
            response = self.session.get(self.base_url + path, params=params, headers=self.headers, timeout=self.timeout)
        except requests.Timeout as exc:
            raise TransientAPIError(f"GET {path} timed out", vendor="Backstage") from exc
        except requests.ConnectionError as exc:
            raise TransientAPIError(f"GET {path}: connection failed", vendor="Backstage") from exc
        status = response.status_code
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            wait = float(retry_after) if retry_after and retry_after.isdigit() else None
            raise RateLimitedError(f"GET {path} rate limited", retry_after=wait, status=status, vendor="Backstage")
        if status >= 500:
            raise TransientAPIError(f"GET {path} failed", status=status, vendor="Backstage")
        if status >= 400:
            raise PermanentAPIError(f"GET {path} refused", status=status, vendor="Backstage")
        try:
            return response.json()
        except ValueError as exc:
            raise TransientAPIError(
                f"GET {path} answered with invalid JSON", status=status, vendor="Backstage"
            ) from exc
