"""In-process fake of the Backstage catalog API: /api/catalog/entities/by-query (cursor) and /entities (offset)."""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

try:
    import pytest
except ImportError:  # the demo runs the fake without pytest installed
    pytest = None


def component(name: str, repo: str, owner: str | None, **annotations: str) -> dict[str, Any]:
    """A Component entity as the catalog API returns it."""
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {
            "name": name,
            "namespace": "default",
            "annotations": {"github.com/project-slug": repo, **annotations},
        },
        "spec": {"type": "service", "lifecycle": "production", **({"owner": owner} if owner else {})},
        "relations": [],
    }


def group(name: str, display_name: str = "", **annotations: str) -> dict[str, Any]:
    """A Group entity as the catalog API returns it."""
    return {
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Group",
        "metadata": {"name": name, "namespace": "default", "annotations": dict(annotations)},
        "spec": {"type": "team", "profile": {"displayName": display_name} if display_name else {}, "children": []},
    }


class FakeBackstage:
    """Serves a list of entities; filters by kind the way Backstage does (filters OR-ed, conditions AND-ed)."""

    def __init__(self, entities: list[dict[str, Any]], *, token: str | None = None, cursor_api: bool = True) -> None:
        self.entities = list(entities)
        self.token = token
        self.cursor_api = cursor_api
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self._scripted: deque[int] = deque()
        self._server: ThreadingHTTPServer | None = None

    def fail_next(self, status: int, *, times: int = 1) -> None:
        """Answer the next requests with this HTTP status."""
        self._scripted.extend([status] * times)

    @property
    def url(self) -> str:
        assert self._server is not None, "call start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeBackstage:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _matching(self, filters: list[str]) -> list[dict[str, Any]]:
        if not filters:
            return self.entities

        def matches(entity: dict[str, Any], condition: str) -> bool:
            key, _, value = condition.partition("=")
            return key.strip().lower() == "kind" and str(entity.get("kind", "")).lower() == value.strip().lower()

        return [e for e in self.entities if any(all(matches(e, c) for c in f.split(",")) for f in filters)]

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(request.path)
        query = parse_qs(parsed.query)
        self.requests.append((parsed.path, query))
        if self._scripted:
            return _send(request, self._scripted.popleft(), {"error": {"name": "Scripted", "message": "scripted"}})
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return _send(request, 401, {"error": {"name": "AuthenticationError", "message": "Missing credentials"}})
        limit = int(query.get("limit", ["20"])[0])
        if parsed.path == "/api/catalog/entities/by-query" and self.cursor_api:
            if "cursor" in query:
                state = json.loads(base64.b64decode(query["cursor"][0]))
                filters, offset = state["filters"], state["offset"]
            else:
                filters, offset = query.get("filter", []), 0
            matched = self._matching(filters)
            items = matched[offset : offset + limit]
            page_info: dict[str, str] = {}
            if offset + limit < len(matched):
                state = {"filters": filters, "offset": offset + limit}
                page_info["nextCursor"] = base64.b64encode(json.dumps(state).encode()).decode()
            return _send(request, 200, {"items": items, "totalItems": len(matched), "pageInfo": page_info})
        if parsed.path == "/api/catalog/entities":
            offset = int(query.get("offset", ["0"])[0])
            return _send(request, 200, self._matching(query.get("filter", []))[offset : offset + limit])
        return _send(request, 404, {"error": {"name": "NotFoundError", "message": f"No route for {parsed.path}"}})


def _send(request: BaseHTTPRequestHandler, status: int, body: Any) -> None:
    payload = json.dumps(body).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json; charset=utf-8")
    request.send_header("Content-Length", str(len(payload)))
    request.end_headers()
    request.wfile.write(payload)


if pytest is not None:

    @pytest.fixture
    def fake_backstage():
        """A started FakeBackstage with two teams and three components."""
        fake = FakeBackstage(
            [
                group("payments", "Payments", **{"slack.com/bot-notify": "#payments"}),
                group("search", "Search"),
                component("ledger", "acme/ledger", "group:default/payments"),
                component("search-ui", "acme/search-ui", "search"),
                component("orphan", "acme/orphan", None),
            ]
        ).start()
        try:
            yield fake
        finally:
            fake.stop()
