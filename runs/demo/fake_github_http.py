"""The fake GitHub's serving half: recorded requests, canned replies, routing, paging and the HTTP handler."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

DOCS_URL = "https://docs.github.com/rest"


@dataclass
class RecordedRequest:
    """A request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """Header value, case-insensitively."""
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class ScriptedResponse:
    """A canned reply served instead of the real one."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeGitHubServing:
    """Computes the reply to one request from the state FakeGitHub keeps (declared here, set there)."""

    token: str | None
    clock: Callable[[], float]
    url: str
    requests: list[RecordedRequest]
    not_modified_count: int
    counted_count: int
    delay_seconds: float
    rate_limit: int
    rate_limit_remaining: int
    rate_limit_reset: int
    pulls: dict[tuple[str, str, int], dict[str, Any]]
    reviews: dict[tuple[str, str, int], list[dict[str, Any]]]
    files: dict[tuple[str, str, int], list[dict[str, Any]]]
    check_runs: dict[tuple[str, str, str], list[dict[str, Any]]]
    statuses: dict[tuple[str, str, str], list[dict[str, Any]]]
    contents: dict[tuple[str, str, str], str]
    comments: list[dict[str, Any]]
    _script: list[ScriptedResponse]
    _late: list[tuple[str, str, float]]
    _lock: threading.Lock
    _templates: dict[str, Any]

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> ScriptedResponse:
        """Compute the reply to one request."""
        parsed = urlparse(raw_path)
        query = parse_qs(parsed.query)
        with self._lock:
            self.requests.append(RecordedRequest(method, parsed.path, query, headers, body))
            scripted = self._script.pop(0) if self._script else None
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if scripted is not None:
            return scripted
        lowered = {key.lower(): value for key, value in headers.items()}
        if self.token and lowered.get("authorization") != f"Bearer {self.token}":
            return error_reply(401, "Bad credentials")
        late = self._late_for(method, parsed.path)
        reply = self._reply(method, parsed.path, query, lowered, body)
        if late:
            time.sleep(late)  # the request took effect; its answer comes after the client's timeout
        return reply

    def _late_for(self, method: str, path: str) -> float:
        with self._lock:
            for index, (late_method, fragment, seconds) in enumerate(self._late):
                if late_method == method and fragment in path:
                    del self._late[index]
                    return seconds
        return 0.0

    def _reply(
        self, method: str, raw_path: str, query: dict[str, list[str]], lowered: dict[str, str], body: bytes
    ) -> ScriptedResponse:
        path = raw_path
        if path.startswith("/api/v3/"):
            path = path[len("/api/v3") :]
        if path in {"/graphql", "/api/graphql"} and method == "POST":
            return self._graphql(body)
        with self._lock:
            if self.clock() >= self.rate_limit_reset:
                self.rate_limit_remaining = self.rate_limit
                self.rate_limit_reset = int(self.clock()) + 3600
        if self.rate_limit_remaining <= 0:
            return error_reply(403, "API rate limit exceeded for user ID 1.", headers=self._limit_headers())
        reply = self._route(method, path, query, body)
        if reply.status == 200 and method == "GET":
            reply = self._paginate(reply, raw_path, query)
            if _not_modified(reply, lowered):
                # A 304 does not count against the rate limit.
                with self._lock:
                    self.not_modified_count += 1
                return ScriptedResponse(304, None, {**reply.headers, **self._limit_headers()})
        with self._lock:
            self.rate_limit_remaining -= 1
            self.counted_count += 1
        reply.headers.update(self._limit_headers())
        return reply

    def _limit_headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(max(self.rate_limit_remaining, 0)),
            "X-RateLimit-Reset": str(self.rate_limit_reset),
            "X-RateLimit-Used": str(self.rate_limit - max(self.rate_limit_remaining, 0)),
            "X-RateLimit-Resource": "core",
        }

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> ScriptedResponse:
        parts = [part for part in path.split("/") if part]
        if len(parts) < 4 or parts[0] != "repos":
            return error_reply(404, "Not Found")
        owner, repo, rest = parts[1], parts[2], parts[3:]
        if method == "GET" and rest[0] == "pulls" and len(rest) == 1:
            return ScriptedResponse(200, self._list_pulls(owner, repo, query))
        if method == "GET" and rest[0] == "pulls" and len(rest) in {2, 3} and rest[1].isdigit():
            pull = self.pulls.get((owner, repo, int(rest[1])))
            if pull is None:
                return error_reply(404, "Not Found")
            if len(rest) == 2:
                return ScriptedResponse(200, pull)
            if rest[2] == "reviews":
                return ScriptedResponse(200, list(self.reviews.get((owner, repo, int(rest[1])), [])))
            if rest[2] == "files":
                return ScriptedResponse(200, self._pull_files(owner, repo, pull))
        if method == "GET" and rest[0] == "commits" and len(rest) == 3:
            ref = rest[1]
            if rest[2] == "check-runs":
                return ScriptedResponse(200, {"check_runs": list(self.check_runs.get((owner, repo, ref), []))})
            if rest[2] == "status":
                return ScriptedResponse(200, self._combined(owner, repo, ref))
        if method == "GET" and rest[0] == "contents":
            text = self.contents.get((owner, repo, "/".join(rest[1:])))
            if text is None:
                return error_reply(404, "Not Found")
            encoded = base64.encodebytes(text.encode()).decode()  # GitHub wraps base64 lines too
            return ScriptedResponse(
                200, {"type": "file", "encoding": "base64", "path": "/".join(rest[1:]), "content": encoded}
            )
        if rest[0] == "issues" and len(rest) == 3 and rest[2] == "comments" and rest[1].isdigit():
            issue_url = f"https://api.github.com/repos/{owner}/{repo}/issues/{rest[1]}"
            if method == "GET":
                return ScriptedResponse(200, self._list_comments(issue_url, query))
            if method == "POST":
                return ScriptedResponse(201, self._create_comment(owner, repo, int(rest[1]), issue_url, body))
        return error_reply(404, "Not Found")

    def _pull_files(self, owner: str, repo: str, pull: dict[str, Any]) -> list[dict[str, Any]]:
        """The pull's scripted files, or the example's files moved to its repository and head commit."""
        with self._lock:
            scripted = self.files.get((owner, repo, pull["number"]))
            if scripted is not None:
                return copy.deepcopy(scripted)
            files = copy.deepcopy(self._templates["files"])
        sha = pull["head"]["sha"]
        for item in files:
            path = item["filename"]
            item["blob_url"] = f"https://github.com/{owner}/{repo}/blob/{sha}/{path}"
            item["raw_url"] = f"https://github.com/{owner}/{repo}/raw/{sha}/{path}"
            item["contents_url"] = f"https://api.github.com/repos/{owner}/{repo}/contents/{path}?ref={sha}"
        return files

    def _create_comment(self, owner: str, repo: str, number: int, issue_url: str, body: bytes) -> dict[str, Any]:
        text = json.loads(body or b"{}").get("body", "")
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with self._lock:
            comment_id = 9000 + len(self.comments)
            comment = copy.deepcopy(self._templates["comment"])
            comment.update(
                {
                    "id": comment_id,
                    "node_id": f"IC_{comment_id}",
                    "url": f"https://api.github.com/repos/{owner}/{repo}/issues/comments/{comment_id}",
                    "html_url": f"https://github.com/{owner}/{repo}/pull/{number}#issuecomment-{comment_id}",
                    "body": text,
                    "created_at": stamp,
                    "updated_at": stamp,
                    "issue_url": issue_url,
                }
            )
            self.comments.append(comment)
        return comment

    def _list_comments(self, issue_url: str, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        # `since`: only comments updated at or after it (ISO 8601 strings in UTC compare in time order).
        since = query.get("since", [""])[0]
        with self._lock:
            return [
                copy.deepcopy(comment)
                for comment in self.comments
                if comment.get("issue_url") == issue_url and comment.get("updated_at", "") >= since
            ]

    def _list_pulls(self, owner: str, repo: str, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        state = query.get("state", ["open"])[0]
        head = query.get("head", [None])[0]
        with self._lock:
            pulls = sorted((key, pull) for key, pull in self.pulls.items() if key[:2] == (owner, repo))
        if query.get("sort", [""])[0] == "updated":  # most recently updated first unless direction=asc
            pulls.sort(key=lambda entry: (entry[1]["updated_at"], entry[0][2]))
            if query.get("direction", ["desc"])[0] != "asc":
                pulls.reverse()
        items = []
        for (_, _, number), pull in pulls:
            if state != "all" and pull["state"] != state:
                continue
            if head and pull["head"]["label"] != head:
                continue
            # List items are the "simple" pull request: no merged, mergeable or mergeable_state.
            item = copy.deepcopy(self._templates["pull_item"])
            item.update({key: pull[key] for key in item if key in pull and key not in {"head", "base"}})
            item["head"] = copy.deepcopy(pull["head"])
            item["base"] = copy.deepcopy(pull["base"])
            items.append(item)
            assert number == pull["number"]
        return items

    def _combined(self, owner: str, repo: str, ref: str) -> dict[str, Any]:
        combined = copy.deepcopy(self._templates["combined"])
        template = combined["statuses"][0] if combined["statuses"] else {}
        statuses = [{**template, **status} for status in self.statuses.get((owner, repo, ref), [])]
        states = {status["state"] for status in statuses}
        if states & {"failure", "error"}:
            state = "failure"
        elif "pending" in states or not statuses:
            state = "pending"  # GitHub says pending when there are no statuses at all
        else:
            state = "success"
        combined.update({"state": state, "statuses": statuses, "sha": ref, "total_count": len(statuses)})
        return combined

    def _paginate(self, reply: ScriptedResponse, path: str, query: dict[str, list[str]]) -> ScriptedResponse:
        body = reply.body
        key = "check_runs" if isinstance(body, dict) and "check_runs" in body else None
        items = body[key] if key else body
        if not isinstance(items, list):
            return reply
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        page = max(int(query.get("page", ["1"])[0]), 1)
        last = max((len(items) + per_page - 1) // per_page, 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        new_body = {"total_count": len(items), key: chunk} if key else chunk
        links = []
        flat = {name: values[0] for name, values in query.items()}
        for rel, number in (("prev", page - 1), ("next", page + 1), ("first", 1), ("last", last)):
            if (
                (rel == "prev" and page > 1)
                or (rel == "next" and page < last)
                or (rel in {"first", "last"} and last > 1)
            ):
                links.append(f'<{self.url}{path}?{urlencode({**flat, "page": number})}>; rel="{rel}"')
        headers = dict(reply.headers)
        if links:
            headers["Link"] = ", ".join(links)
        return ScriptedResponse(reply.status, new_body, headers)

    def _graphql(self, body: bytes) -> ScriptedResponse:
        request = json.loads(body or b"{}")
        query = request.get("query", "")
        variables = request.get("variables") or {}
        if "markPullRequestReadyForReview" not in query:
            return ScriptedResponse(
                200, {"errors": [{"message": "This fake only knows markPullRequestReadyForReview"}]}
            )
        node_id = variables.get("id", "")
        with self._lock:
            pull = next((p for p in self.pulls.values() if p["node_id"] == node_id), None)
            if pull is None:
                message = f"Could not resolve to a node with the global id of '{node_id}'"
                return ScriptedResponse(200, {"data": None, "errors": [{"type": "NOT_FOUND", "message": message}]})
            pull["draft"] = False
        node = {"id": node_id, "number": pull["number"], "isDraft": False}
        return ScriptedResponse(200, {"data": {"markPullRequestReadyForReview": {"pullRequest": node}}})


def _not_modified(reply: ScriptedResponse, lowered: dict[str, str]) -> bool:
    """Sets the reply's validators as GitHub does; True when the request's condition says it is unchanged.

    Every GET answer has a weak ETag of its exact body (so one per page and per query string); a single object
    with an `updated_at` also has a Last-Modified. If-None-Match wins over If-Modified-Since, as in RFC 9110.
    """
    etag = 'W/"' + hashlib.sha256(json.dumps(reply.body, sort_keys=True).encode()).hexdigest() + '"'
    reply.headers["ETag"] = etag
    updated = reply.body.get("updated_at") if isinstance(reply.body, dict) else None
    modified = None
    if isinstance(updated, str) and updated:
        modified = datetime.fromisoformat(updated.replace("Z", "+00:00")).replace(microsecond=0)
        reply.headers["Last-Modified"] = format_datetime(modified, usegmt=True)
    if "if-none-match" in lowered:
        sent = {tag.strip() for tag in lowered["if-none-match"].split(",")}
        # Weak comparison: W/"x" matches "x".
        return bool({etag, etag[2:], "*"} & sent)
    since = lowered.get("if-modified-since")
    if since and modified is not None:
        try:
            return modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def error_reply(status: int, message: str, *, headers: dict[str, str] | None = None) -> ScriptedResponse:
    """A GitHub-style error body with `status`."""
    return ScriptedResponse(
        status, {"message": message, "documentation_url": DOCS_URL, "status": str(status)}, headers or {}
    )


class RequestHandler(BaseHTTPRequestHandler):
    """Hands each HTTP request to `fake` (set on a subclass per server) and writes its reply."""

    fake: FakeGitHubServing
    protocol_version = "HTTP/1.1"
    # One write per reply (headers and body together) without Nagle's delay, as a real server answers.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            reply = self.fake.handle(self.command, self.path, dict(self.headers.items()), body)
        except Exception as exc:  # a bug in the fake must surface as a 500, not a hung client
            reply = error_reply(500, f"fake GitHub error: {exc}")
        payload = b"" if reply.status == 304 or reply.body is None else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.status != 304:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    do_GET = _serve
    do_POST = _serve
    do_PATCH = _serve
    do_PUT = _serve
    do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return
