"""In-process fake GitHub (REST + GraphQL) built from GitHub's own example payloads in ../shared/contracts/github.

Usable without pytest (`FakeGitHub().start()` ... `.stop()`, e.g. for a demo) and as the `fake_github` fixture
(register with `pytest_plugins = ["tests.fakes.github"]`).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

try:
    import pytest
except ImportError:  # the demo serves the fake without the test dependencies
    pytest = None

DOCS_URL = "https://docs.github.com/rest"


def contracts_dir() -> Path:
    """Directory of GitHub's example payloads: $FLEETUI_SHARED_DIR/contracts/github, or ../shared next to the repo."""
    shared = os.environ.get("FLEETUI_SHARED_DIR") or str(Path(__file__).resolve().parents[2] / ".." / "shared")
    return Path(shared) / "contracts" / "github"


def load_contract(relative: str) -> Any:
    """One contract payload, e.g. `rest/pulls.get.json`."""
    return json.loads((contracts_dir() / relative).read_text())


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


class FakeGitHub:
    """Serves pulls, reviews, check runs, statuses, contents, comments and a ready-for-review GraphQL mutation."""

    def __init__(self, *, token: str | None = None, rate_limit: int = 5000, clock=time.time) -> None:
        self.token = token
        self.clock = clock  # share a fake clock with the client's sleep to script rate-limit resets
        self.requests: list[RecordedRequest] = []
        self.not_modified_count = 0
        self.delay_seconds = 0.0
        self.rate_limit = rate_limit
        self.rate_limit_remaining = rate_limit
        self.rate_limit_reset = int(clock()) + 3600
        self.pulls: dict[tuple[str, str, int], dict[str, Any]] = {}
        self.reviews: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
        self.check_runs: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self.statuses: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self.contents: dict[tuple[str, str, str], str] = {}
        self.comments: list[dict[str, Any]] = []
        self._script: list[ScriptedResponse] = []
        self._lock = threading.Lock()
        self._templates = {
            "pull": load_contract("rest/pulls.get.json"),
            "pull_item": load_contract("rest/pulls.list.json")[0],
            "review": load_contract("rest/pulls.list-reviews.json")[0],
            "check_run": load_contract("rest/checks.list-for-ref.json")["check_runs"][0],
            "combined": load_contract("rest/repos.get-combined-status-for-ref.json"),
        }
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        """Listen on a free loopback port in a daemon thread."""
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, usable as the client's `base_url` (append `/api/v3` to act as GitHub Enterprise)."""
        assert self._server is not None, "call start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- scripting -------------------------------------------------------------------------------------------------

    def add_pull(
        self,
        owner: str,
        repo: str,
        number: int,
        *,
        state: str = "open",
        draft: bool = False,
        merged: bool = False,
        mergeable: bool | None = True,
        mergeable_state: str = "clean",
        head_sha: str | None = None,
        head_ref: str | None = None,
        title: str | None = None,
    ) -> dict[str, Any]:
        """Add (or replace) a pull request built from GitHub's example, returning its pulls.get payload."""
        pull = copy.deepcopy(self._templates["pull"])
        web = f"https://github.com/{owner}/{repo}"
        api = f"https://api.github.com/repos/{owner}/{repo}"
        sha = head_sha or hashlib.sha1(f"{owner}/{repo}#{number}".encode()).hexdigest()
        is_merged = merged or state == "merged"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        pull.update(
            {
                "number": number,
                "id": abs(hash((owner, repo, number))) % 10**9,
                "node_id": base64.b64encode(f"PR_{owner}/{repo}#{number}".encode()).decode(),
                "state": "closed" if is_merged or state == "closed" else "open",
                "draft": draft,
                "merged": is_merged,
                "merged_at": stamp if is_merged else None,
                "closed_at": stamp if is_merged or state == "closed" else None,
                "mergeable": mergeable,
                "mergeable_state": mergeable_state if mergeable is not None else "unknown",
                "title": title or f"Migration of {repo}",
                "updated_at": stamp,
                "url": f"{api}/pulls/{number}",
                "html_url": f"{web}/pull/{number}",
            }
        )
        pull["head"]["sha"] = sha
        pull["head"]["ref"] = head_ref or f"migration-{number}"
        pull["head"]["label"] = f"{owner}:{pull['head']['ref']}"
        pull["base"]["repo"]["full_name"] = f"{owner}/{repo}"
        pull["base"]["repo"]["name"] = repo
        with self._lock:
            self.pulls[(owner, repo, number)] = pull
        return pull

    def add_review(self, owner: str, repo: str, number: int, *, user: str, state: str) -> dict[str, Any]:
        """Append a submitted review (state upper case, as over REST)."""
        with self._lock:
            reviews = self.reviews.setdefault((owner, repo, number), [])
            review = copy.deepcopy(self._templates["review"])
            review.update({"id": 1000 + len(reviews), "state": state.upper()})
            review["user"]["login"] = user
            review["submitted_at"] = f"2024-01-01T00:{len(reviews):02d}:00Z"
            reviews.append(review)
        return review

    def add_check_run(
        self, owner: str, repo: str, ref: str, *, name: str, status: str = "completed", conclusion: str | None = None
    ) -> dict[str, Any]:
        """Append a check run on a ref (a sha or branch)."""
        with self._lock:
            runs = self.check_runs.setdefault((owner, repo, ref), [])
            run = copy.deepcopy(self._templates["check_run"])
            run.update({"id": 5000 + len(runs), "name": name, "status": status, "conclusion": conclusion})
            run["head_sha"] = ref
            runs.append(run)
        return run

    def add_status(self, owner: str, repo: str, ref: str, *, context: str, state: str) -> None:
        """Append a commit status on a ref."""
        with self._lock:
            self.statuses.setdefault((owner, repo, ref), []).append({"context": context, "state": state})

    def set_contents(self, owner: str, repo: str, path: str, text: str) -> None:
        """Serve a file at `path`."""
        with self._lock:
            self.contents[(owner, repo, path)] = text

    def fail_next(self, count: int, status: int, *, body: Any = None, headers: dict[str, str] | None = None) -> None:
        """Answer the next `count` requests with `status` (e.g. a 502, or a 403 secondary limit with Retry-After)."""
        reply = ScriptedResponse(
            status=status, body=body if body is not None else {"message": "scripted failure"}, headers=headers or {}
        )
        with self._lock:
            self._script.extend(copy.deepcopy(reply) for _ in range(count))

    def secondary_rate_limit(self, count: int = 1, *, status: int = 403, retry_after: int | None = 7) -> None:
        """Answer the next `count` requests as GitHub's secondary rate limit does."""
        body = {
            "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            "documentation_url": f"{DOCS_URL}/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        }
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.fail_next(count, status, body=body, headers=headers)

    def requests_to(self, path_fragment: str) -> list[RecordedRequest]:
        """Recorded requests whose path contains `path_fragment`."""
        return [request for request in self.requests if path_fragment in request.path]

    # -- serving ---------------------------------------------------------------------------------------------------

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
            return _error(401, "Bad credentials")
        path = parsed.path
        if path.startswith("/api/v3/"):
            path = path[len("/api/v3") :]
        if path in {"/graphql", "/api/graphql"} and method == "POST":
            return self._graphql(body)
        with self._lock:
            if self.clock() >= self.rate_limit_reset:
                self.rate_limit_remaining = self.rate_limit
                self.rate_limit_reset = int(self.clock()) + 3600
        if self.rate_limit_remaining <= 0:
            return _error(403, "API rate limit exceeded for user ID 1.", headers=self._limit_headers())
        reply = self._route(method, path, query, body)
        if reply.status == 200 and method == "GET":
            reply = self._paginate(reply, parsed.path, query)
            etag = 'W/"' + hashlib.sha256(json.dumps(reply.body, sort_keys=True).encode()).hexdigest() + '"'
            reply.headers["ETag"] = etag
            if lowered.get("if-none-match") == etag:
                # A 304 does not count against the rate limit.
                with self._lock:
                    self.not_modified_count += 1
                return ScriptedResponse(304, None, {**reply.headers, **self._limit_headers()})
        with self._lock:
            self.rate_limit_remaining -= 1
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
            return _error(404, "Not Found")
        owner, repo, rest = parts[1], parts[2], parts[3:]
        if method == "GET" and rest[0] == "pulls" and len(rest) == 1:
            return ScriptedResponse(200, self._list_pulls(owner, repo, query))
        if method == "GET" and rest[0] == "pulls" and len(rest) in {2, 3} and rest[1].isdigit():
            pull = self.pulls.get((owner, repo, int(rest[1])))
            if pull is None:
                return _error(404, "Not Found")
            if len(rest) == 2:
                return ScriptedResponse(200, pull)
            if rest[2] == "reviews":
                return ScriptedResponse(200, list(self.reviews.get((owner, repo, int(rest[1])), [])))
        if method == "GET" and rest[0] == "commits" and len(rest) == 3:
            ref = rest[1]
            if rest[2] == "check-runs":
                return ScriptedResponse(200, {"check_runs": list(self.check_runs.get((owner, repo, ref), []))})
            if rest[2] == "status":
                return ScriptedResponse(200, self._combined(owner, repo, ref))
        if method == "GET" and rest[0] == "contents":
            text = self.contents.get((owner, repo, "/".join(rest[1:])))
            if text is None:
                return _error(404, "Not Found")
            encoded = base64.encodebytes(text.encode()).decode()  # GitHub wraps base64 lines too
            return ScriptedResponse(
                200, {"type": "file", "encoding": "base64", "path": "/".join(rest[1:]), "content": encoded}
            )
        if method == "POST" and rest[0] == "issues" and len(rest) == 3 and rest[2] == "comments":
            text = json.loads(body or b"{}").get("body", "")
            with self._lock:
                comment_id = 9000 + len(self.comments)
                comment = {
                    "id": comment_id,
                    "body": text,
                    "html_url": f"https://github.com/{owner}/{repo}/pull/{rest[1]}#issuecomment-{comment_id}",
                }
                self.comments.append(comment)
            return ScriptedResponse(201, comment)
        return _error(404, "Not Found")

    def _list_pulls(self, owner: str, repo: str, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        state = query.get("state", ["open"])[0]
        head = query.get("head", [None])[0]
        items = []
        for (pull_owner, pull_repo, number), pull in sorted(self.pulls.items()):
            if (pull_owner, pull_repo) != (owner, repo):
                continue
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


def _error(status: int, message: str, *, headers: dict[str, str] | None = None) -> ScriptedResponse:
    return ScriptedResponse(
        status, {"message": message, "documentation_url": DOCS_URL, "status": str(status)}, headers or {}
    )


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            reply = self.fake.handle(self.command, self.path, dict(self.headers.items()), body)
        except Exception as exc:  # a bug in the fake must surface as a 500, not a hung client
            reply = _error(500, f"fake GitHub error: {exc}")
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


if pytest is not None:

    @pytest.fixture
    def fake_github():
        """A started FakeGitHub; skips when the contract payloads are absent."""
        if not (contracts_dir() / "rest" / "pulls.get.json").exists():
            pytest.skip(f"GitHub contract payloads not found under {contracts_dir()} (set FLEETUI_SHARED_DIR)")
        fake = FakeGitHub().start()
        try:
            yield fake
        finally:
            fake.stop()
