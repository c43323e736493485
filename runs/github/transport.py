"""HTTP transport of the GitHub client: conditional requests, Link-header paging, rate limits and retries."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import requests

from fleetui.common.errors import PermanentAPIError, RateLimitedError, TransientAPIError
from runs.github.etags import ETagStore, MemoryETagStore, Page, cache_key
from runs.github.types import NotModified

API_VERSION = "2022-11-28"
VENDOR = "GitHub"
# GitHub asks for at least a minute between retries after a secondary limit that names no wait.
SECONDARY_LIMIT_MIN_WAIT = 60.0
MAX_PAGES = 1000


class GitHubTransport:
    """Sends requests to one GitHub host; every GET is conditional on what its ETag store holds.

    The store (in memory unless one is given, e.g. the database's) keeps each GET's ETag, Last-Modified and parsed
    answer per URL and query, so per page of a list; a 304 (free against the rate limit) yields the stored answer.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout: float | tuple[float, float] = 10,
        max_retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        *,
        max_rate_limit_wait: float = 120.0,
        backoff_base: float = 1.0,
        max_backoff: float = 30.0,
        page_size: int = 100,
        etag_cache_size: int = 2048,
        etag_store: ETagStore | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.timeout = timeout if isinstance(timeout, tuple) else (float(timeout), float(timeout))
        self.max_retries = max_retries
        self.max_rate_limit_wait = max_rate_limit_wait
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.page_size = page_size
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._origin = _origin(base_url)
        self.etag_store: ETagStore = etag_store if etag_store is not None else MemoryETagStore(etag_cache_size)
        # Rate limits are per resource ("core", "graphql", ...): remaining and reset epoch.
        self._limits: dict[str, tuple[int, float]] = {}
        self.rate_limit_remaining: int | None = None
        self.rate_limit_reset: float | None = None
        self.requests_made = 0
        self.not_modified_count = 0
        self.session = session or requests.Session()
        self.session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "fleetui",
            }
        )
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def fetch(
        self,
        url: str,
        *,
        parse: Callable[[Any, str | None], Any],
        params: dict[str, Any] | None = None,
        etag: str | None = None,
    ) -> Page:
        """A conditional GET: an explicit `etag` yields NotModified on 304, else the store's answer comes back.

        Without an explicit `etag` it sends the stored ETag (If-None-Match) and Last-Modified (If-Modified-Since).
        The store keeps parsed values, not raw payloads, so it stays small across thousands of repositories.
        """
        key = cache_key(url, params)
        stored = None if etag else self.etag_store.get(key)  # the caller keeps this resource's ETag itself
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        elif stored is not None:
            if stored.etag:
                headers["If-None-Match"] = stored.etag
            if stored.last_modified:
                headers["If-Modified-Since"] = stored.last_modified
        response = self.request("GET", url, params=params, headers=headers or None)
        if response.status_code == 304:
            self.not_modified_count += 1
            if not etag and stored is not None:
                self.etag_store.touch(key)
                return stored
            not_modified = NotModified(etag=response.headers.get("ETag") or etag or "", url=url)
            return Page(value=not_modified, etag=not_modified.etag, next_url=None)
        new_etag = response.headers.get("ETag")
        last_modified = response.headers.get("Last-Modified")
        page = Page(
            value=parse(response_json(response), new_etag),
            etag=new_etag,
            next_url=self._next_link(response),
            last_modified=last_modified,
        )
        if new_etag or last_modified:
            self.etag_store.put(key, url, page)
        return page

    def get_pages(
        self,
        url: str,
        parse_item: Callable[[Any], Any],
        *,
        params: dict[str, Any] | None = None,
        items_key: str | None = None,
    ) -> list:
        """Every item across `Link: rel="next"` pages, parsed with `parse_item`."""

        def parse(payload: Any, _etag: str | None) -> list:
            chunk = payload.get(items_key) if items_key and isinstance(payload, dict) else payload
            if not isinstance(chunk, list) or not all(isinstance(item, dict) for item in chunk):
                raise PermanentAPIError(f"unexpected list payload from {url}", vendor=VENDOR)
            return [parse_item(item) for item in chunk]

        items: list = []
        page_params: dict[str, Any] | None = {**(params or {}), "per_page": self.page_size}
        next_url: str | None = url
        for _ in range(MAX_PAGES):
            if next_url is None:
                return items
            page = self.fetch(next_url, parse=parse, params=page_params)
            items.extend(page.value)
            next_url = page.next_url
            page_params = None  # the next link already carries every query parameter
        raise TransientAPIError(f"more than {MAX_PAGES} pages at {url}", vendor=VENDOR)

    def _next_link(self, response: requests.Response) -> str | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        # Never follow a link (and send our token) to another host.
        if _origin(link) != self._origin:
            raise PermanentAPIError(f"pagination link leaves {self._origin}: {link}", vendor=VENDOR)
        return link

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        idempotent: bool = True,
        resource: str = "core",
    ) -> requests.Response:
        """Send with retries: rate limits wait (bounded), 5xx and network errors back off, other 4xx raise."""
        attempt = 0
        while True:
            self._wait_for_reset(resource)
            try:
                self.requests_made += 1
                response = self.session.request(
                    method, url, params=params, json=json_body, headers=headers, timeout=self.timeout
                )
            except requests.ConnectTimeout as exc:
                # Never reached GitHub, so even a POST is safe to resend.
                attempt = self._retry_or_raise(attempt, f"connect timeout: {exc}", retryable=True)
                continue
            except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                attempt = self._retry_or_raise(attempt, f"{type(exc).__name__}: {exc}", retryable=idempotent)
                continue
            except requests.RequestException as exc:
                raise PermanentAPIError(f"{type(exc).__name__}: {exc}", vendor=VENDOR) from exc
            self._record_limits(response, resource)
            status = response.status_code
            if status < 300 or status == 304:
                return response
            message = _error_message(response)
            wait = self._rate_limit_wait(response, message, attempt, resource) if status in {403, 429} else None
            if wait is not None:
                if attempt >= self.max_retries or wait > self.max_rate_limit_wait:
                    raise RateLimitedError(message, retry_after=wait, status=status, vendor=VENDOR)
                self._sleep(wait)
                self._limits.pop(resource, None)  # waited already; do not wait again before the retry
                attempt += 1
                continue
            if status >= 500:
                attempt = self._retry_or_raise(attempt, message, retryable=idempotent, status=status)
                continue
            raise PermanentAPIError(message, status=status, vendor=VENDOR)

    def _retry_or_raise(self, attempt: int, message: str, *, retryable: bool, status: int | None = None) -> int:
        if not retryable or attempt >= self.max_retries:
            raise TransientAPIError(message, status=status, vendor=VENDOR)
        self._sleep(self._backoff(attempt))
        return attempt + 1

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.max_backoff, self.backoff_base * (2**attempt))
        # Equal jitter: at least half the exponential step, so many workers do not retry in lockstep.
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def _rate_limit_wait(self, response: requests.Response, message: str, attempt: int, resource: str) -> float | None:
        """Seconds to wait before retrying a rate-limited response, or None when it is not rate limiting."""
        retry_after = response.headers.get("Retry-After")
        if retry_after is not None:
            try:
                return max(0.0, float(retry_after))
            except ValueError:
                pass
        if response.headers.get("X-RateLimit-Remaining") == "0":
            return self.seconds_to_reset(resource) or 0.0
        lowered = message.lower()
        if response.status_code == 429 or "secondary rate limit" in lowered or "abuse" in lowered:
            step = SECONDARY_LIMIT_MIN_WAIT * (2**attempt)
            return step + self._rng.uniform(0, SECONDARY_LIMIT_MIN_WAIT / 4)
        return None

    def _record_limits(self, response: requests.Response, resource: str) -> None:
        remaining = response.headers.get("X-RateLimit-Remaining")
        reset = response.headers.get("X-RateLimit-Reset")
        if remaining is None or reset is None:
            return
        try:
            values = (int(remaining), float(reset))
        except ValueError:
            return
        resource = response.headers.get("X-RateLimit-Resource") or resource
        self._limits[resource] = values
        self.rate_limit_remaining, self.rate_limit_reset = values

    def seconds_to_reset(self, resource: str) -> float | None:
        limit = self._limits.get(resource)
        if limit is None:
            return None
        return max(0.0, limit[1] - self._clock())

    def _wait_for_reset(self, resource: str) -> None:
        """Before sending: when the budget is spent, wait for the reset (bounded) instead of burning a request."""
        limit = self._limits.get(resource)
        if limit is None or limit[0] > 0:
            return
        wait = self.seconds_to_reset(resource) or 0.0
        if wait > self.max_rate_limit_wait:
            raise RateLimitedError(f"{resource} rate limit exhausted", retry_after=wait, vendor=VENDOR)
        if wait > 0:
            self._sleep(wait)
        del self._limits[resource]


def response_json(response: requests.Response) -> Any:
    """The decoded JSON body ({} when empty); a body that is not JSON is a transient error."""
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError as exc:
        raise TransientAPIError(
            f"invalid JSON from {response.url}", status=response.status_code, vendor=VENDOR
        ) from exc


def _origin(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}".lower()


def _error_message(response: requests.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return (response.text or response.reason or "").strip()[:500]
    if isinstance(payload, dict) and payload.get("message"):
        return str(payload["message"])[:500]
    return (response.reason or "")[:500]
