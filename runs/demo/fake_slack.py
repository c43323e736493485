"""In-process fake of the Slack Web API, answering with Slack's own example payloads from `runs/demo/payloads`."""

from __future__ import annotations

import base64
import copy
import itertools
import json
import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from runs.demo.payloads import payload

DEFAULT_SCOPES = frozenset({"channels:read", "groups:read", "channels:join", "chat:write"})
TIER2_METHODS = frozenset({"conversations.list"})


def load_contract(relative: str) -> dict[str, Any]:
    """Read one vendor payload, e.g. "slack/spec/chat.postMessage.json"."""
    return payload(relative)


class FakeClock:
    """A clock that only moves when something sleeps on it, shared by the fake and the client under test."""

    def __init__(self, start: float = 1_000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(0.0, seconds)


@dataclass
class Scripted:
    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeSlack:
    """Fake Slack workspace: channels, bot membership, scopes, posts; start() serves it on 127.0.0.1."""

    def __init__(
        self,
        *,
        token: str = "xoxb-fake-token",
        scopes: frozenset[str] | set[str] = DEFAULT_SCOPES,
        clock: FakeClock | None = None,
        tier2_per_minute: int | None = None,
    ) -> None:
        self.token = token
        self.scopes = set(scopes)
        self.clock = clock
        self.tier2_per_minute = tier2_per_minute
        self._channel_template = load_contract("slack/spec/conversations.list.json")["channels"][0]
        self._post_template = load_contract("slack/spec/chat.postMessage.json")
        self._join_template = load_contract("slack/spec/conversations.join.json")
        self._ratelimited = load_contract("slack/sdk/ratelimited.429.json")
        self.channels: dict[str, dict[str, Any]] = {}
        self.empty_page_offsets: set[int] = set()
        self.posts: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.rate_limited_count = 0
        self._scripts: dict[str, deque[Scripted]] = {}
        self._recent: dict[str, deque[float]] = {}
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- workspace set-up ------------------------------------------------------------------------

    def add_channel(
        self,
        name: str,
        *,
        channel_id: str | None = None,
        is_private: bool = False,
        is_archived: bool = False,
        is_member: bool = False,
        num_members: int = 3,
        topic: str = "",
        purpose: str = "",
    ) -> str:
        """Create a channel shaped like Slack's own conversations.list item and return its id."""
        with self._lock:
            cid = channel_id or f"{'G' if is_private else 'C'}{next(self._ids):08X}"
            item = copy.deepcopy(self._channel_template)
            item.update(
                id=cid,
                name=name,
                name_normalized=name,
                is_private=is_private,
                is_archived=is_archived,
                is_member=is_member,
                is_general=False,
                num_members=num_members,
                previous_names=[],
            )
            item["topic"] = {**item.get("topic", {}), "value": topic}
            item["purpose"] = {**item.get("purpose", {}), "value": purpose}
            self.channels[cid] = item
            return cid

    def rename_channel(self, channel_id: str, new_name: str) -> None:
        """Rename a channel the way Slack does: same id, new name, old name kept in previous_names."""
        with self._lock:
            item = self.channels[channel_id]
            item["previous_names"] = [item["name"], *item.get("previous_names", [])]
            item["name"] = item["name_normalized"] = new_name

    def script(
        self,
        method: str,
        *,
        status: int = 200,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """Queue canned answers for the next calls of a method (a delay with no body answers normally late)."""
        with self._lock:
            queue = self._scripts.setdefault(method, deque())
            for _ in range(times):
                queue.append(Scripted(status=status, body=body, headers=dict(headers or {}), delay=delay))

    def script_rate_limited(self, method: str, *, times: int = 1) -> None:
        """Queue Slack's documented 429 reply (Retry-After header and ok:false body)."""
        self.script(
            method,
            status=self._ratelimited["status"],
            body=self._ratelimited["body"],
            headers=self._ratelimited["headers"],
            times=times,
        )

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        """Parameters of every call made to a method."""
        return [params for name, params in self.calls if name == method]

    # -- server ----------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "call start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/"

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-slack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- request handling ------------------------------------------------------------------------

    def _now(self) -> float:
        return self.clock.now() if self.clock else time.monotonic()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(request.path)
        method = parsed.path.rsplit("/", 1)[-1]
        params: dict[str, Any] = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        if raw:
            if "json" in (request.headers.get("Content-Type") or ""):
                params.update(json.loads(raw))
            else:
                params.update({k: v[-1] for k, v in parse_qs(raw.decode()).items()})
        auth = request.headers.get("Authorization") or ""
        token = auth.removeprefix("Bearer ").strip() if auth else params.get("token", "")
        with self._lock:
            self.calls.append((method, params))
            scripted = self._scripts.get(method)
            canned = scripted.popleft() if scripted else None
        if canned and canned.delay:
            time.sleep(canned.delay)
        if canned and canned.body is not None:
            if canned.status == 429:
                self.rate_limited_count += 1
            return _send(request, canned.status, canned.body, canned.headers)
        if token != self.token:
            return _send(request, 200, {"ok": False, "error": "invalid_auth"})
        limited = self._tier_limit(method)
        if limited is not None:
            self.rate_limited_count += 1
            headers = {**self._ratelimited["headers"], "retry-after": str(limited)}
            return _send(request, 429, self._ratelimited["body"], headers)
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return _send(request, 200, {"ok": False, "error": "unknown_method"})
        with self._lock:
            body = handler(params)
        _send(request, 200, body)

    def _tier_limit(self, method: str) -> int | None:
        """Seconds to wait when this call exceeds the Tier 2 budget, else None (and the call is counted)."""
        if self.tier2_per_minute is None or method not in TIER2_METHODS:
            return None
        with self._lock:
            now = self._now()
            recent = self._recent.setdefault(method, deque())
            while recent and recent[0] <= now - 60:
                recent.popleft()
            if len(recent) >= self.tier2_per_minute:
                return max(1, math.ceil(recent[0] + 60 - now))
            recent.append(now)
            return None

    def _error(self, code: str, **extra: Any) -> dict[str, Any]:
        return {"ok": False, "error": code, **extra}

    def _m_conversations_list(self, params: dict[str, Any]) -> dict[str, Any]:
        types = set(str(params.get("types") or "public_channel").split(","))
        if "private_channel" in types and "groups:read" not in self.scopes:
            return self._error("missing_scope", needed="groups:read", provided=",".join(sorted(self.scopes)))
        exclude_archived = str(params.get("exclude_archived", "0")).lower() in {"1", "true"}
        limit = max(1, min(int(params.get("limit") or 100), 1000))
        offset, empty_served = _decode_cursor(params.get("cursor") or "")
        if offset in self.empty_page_offsets and not empty_served:
            # Slack may return a page with no items while more remain behind the cursor.
            return {"ok": True, "channels": [], "response_metadata": {"next_cursor": _encode_cursor(offset, True)}}
        wanted = [
            c
            for c in self.channels.values()
            if (("private_channel" in types) if c["is_private"] else ("public_channel" in types))
            and not (exclude_archived and c["is_archived"])
        ]
        page = wanted[offset : offset + limit]
        next_offset = offset + limit
        next_cursor = _encode_cursor(next_offset, False) if next_offset < len(wanted) else ""
        return {"ok": True, "channels": copy.deepcopy(page), "response_metadata": {"next_cursor": next_cursor}}

    def _m_conversations_join(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(params.get("channel")))
        if channel is None:
            return self._error("channel_not_found")
        if channel["is_archived"]:
            return self._error("is_archived")
        if channel["is_private"]:
            return self._error("method_not_supported_for_channel_type")
        body = copy.deepcopy(self._join_template)
        already = channel["is_member"]
        channel["is_member"] = True
        body["channel"] = copy.deepcopy(channel)
        if not already:
            body.pop("warning", None)
            body.pop("response_metadata", None)
        return body

    def _writable_channel(self, channel_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        channel = self.channels.get(channel_id)
        if channel is None:
            return None, self._error("channel_not_found")
        if channel["is_archived"]:
            return None, self._error("is_archived")
        if not channel["is_member"] and (channel["is_private"] or "chat:write.public" not in self.scopes):
            return None, self._error("not_in_channel")
        return channel, None

    def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, error = self._writable_channel(str(params.get("channel")))
        if error:
            return error
        if not params.get("text") and not params.get("blocks"):
            return self._error("no_text")
        ts = f"{1_700_000_000 + next(self._ts)}.000100"
        record = {
            "channel": channel["id"],
            "ts": ts,
            "text": params.get("text"),
            "blocks": params.get("blocks"),
            "thread_ts": params.get("thread_ts"),
        }
        self.posts.append(record)
        body = copy.deepcopy(self._post_template)
        body["channel"] = channel["id"]
        body["ts"] = ts
        body["message"].pop("attachments", None)
        body["message"].update(ts=ts, text=record["text"] or "", blocks=record["blocks"] or [])
        return body

    def _find_post(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        return next((p for p in self.posts if p["channel"] == channel_id and p["ts"] == ts), None)

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id, ts = str(params.get("channel")), str(params.get("ts"))
        if channel_id not in self.channels:
            return self._error("channel_not_found")
        post = self._find_post(channel_id, ts)
        if post is None:
            return self._error("message_not_found")
        post.update(text=params.get("text"), blocks=params.get("blocks"))
        self.updates.append({"channel": channel_id, "ts": ts, "text": post["text"], "blocks": post["blocks"]})
        return {"ok": True, "channel": channel_id, "ts": ts, "text": post["text"] or ""}

    def _m_chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id, ts = str(params.get("channel")), str(params.get("message_ts"))
        if channel_id not in self.channels:
            return self._error("channel_not_found")
        if self._find_post(channel_id, ts) is None:
            return self._error("message_not_found")
        return {
            "ok": True,
            "channel": channel_id,
            "permalink": f"https://fake-workspace.slack.test/archives/{channel_id}/p{ts.replace('.', '')}",
        }


def _encode_cursor(offset: int, empty_served: bool) -> str:
    return base64.b64encode(f"offset:{offset}:{int(empty_served)}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[int, bool]:
    if not cursor:
        return 0, False
    _, offset, served = base64.b64decode(cursor).decode().split(":")
    return int(offset), served == "1"


def _send(request: BaseHTTPRequestHandler, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
    payload = json.dumps(body).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json; charset=utf-8")
    request.send_header("Content-Length", str(len(payload)))
    for key, value in (headers or {}).items():
        if key.lower() not in {"content-type", "content-length"}:
            request.send_header(key, value)
    request.end_headers()
    request.wfile.write(payload)
