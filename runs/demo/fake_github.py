"""In-process fake GitHub (REST + GraphQL) built from GitHub's own example payloads in `runs/demo/payloads`.

The demo serves it on loopback (`FakeGitHub().start()` ... `.stop()`); the tests use it as the `fake_github` fixture.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import threading
import time
from http.server import ThreadingHTTPServer
from typing import Any

from runs.demo.fake_github_http import (
    DOCS_URL,
    FakeGitHubServing,
    RecordedRequest,
    RequestHandler,
    ScriptedResponse,
)
from runs.demo.payloads import payload

__all__ = ["FakeGitHub", "RecordedRequest", "ScriptedResponse", "load_contract"]


def load_contract(relative: str) -> Any:
    """One GitHub payload, e.g. `rest/pulls.get.json`."""
    return payload(f"github/{relative}")


class FakeGitHub(FakeGitHubServing):
    """Serves pulls, their files, reviews, check runs, statuses, contents, comments (post, list) and a
    ready-for-review mutation."""

    def __init__(self, *, token: str | None = None, rate_limit: int = 5000, clock=time.time) -> None:
        self.token = token
        self.clock = clock  # share a fake clock with the client's sleep to script rate-limit resets
        self.requests: list[RecordedRequest] = []
        self.not_modified_count = 0  # conditional GETs answered 304: free against the rate limit
        self.counted_count = 0  # requests that counted against the rate limit
        self.delay_seconds = 0.0
        self.rate_limit = rate_limit
        self.rate_limit_remaining = rate_limit
        self.rate_limit_reset = int(clock()) + 3600
        self.pulls: dict[tuple[str, str, int], dict[str, Any]] = {}
        self.reviews: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
        self.files: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
        self.check_runs: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self.statuses: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self.contents: dict[tuple[str, str, str], str] = {}
        self.comments: list[dict[str, Any]] = []
        self._script: list[ScriptedResponse] = []
        self._late: list[tuple[str, str, float]] = []
        self._lock = threading.Lock()
        self._last_stamp = 0
        self._templates = {
            "pull": load_contract("rest/pulls.get.json"),
            "pull_item": load_contract("rest/pulls.list.json")[0],
            "review": load_contract("rest/pulls.list-reviews.json")[0],
            "check_run": load_contract("rest/checks.list-for-ref.json")["check_runs"][0],
            "combined": load_contract("rest/repos.get-combined-status-for-ref.json"),
            "comment": load_contract("rest/issues.list-comments.json")[0],
            "files": load_contract("rest/pulls.list-files.json"),
        }
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> FakeGitHub:
        """Listen on a free loopback port in a daemon thread."""
        handler = type("Handler", (RequestHandler,), {"fake": self})
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
        stamp = self._next_stamp()
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

    def set_updated_at(self, owner: str, repo: str, number: int, stamp: str) -> None:
        """Say the pull request was last touched at `stamp` (GitHub's time format), e.g. long left alone."""
        with self._lock:
            if (owner, repo, number) in self.pulls:
                self.pulls[(owner, repo, number)]["updated_at"] = stamp

    def set_files(self, owner: str, repo: str, number: int, files: list[dict[str, Any]]) -> None:
        """Serve these diff entries as the pull request's files (a pull without any serves the example's)."""
        with self._lock:
            self.files[(owner, repo, number)] = copy.deepcopy(files)

    def add_review(self, owner: str, repo: str, number: int, *, user: str, state: str) -> dict[str, Any]:
        """Append a submitted review (state upper case, as over REST); like GitHub, it updates the pull request."""
        stamp = self._next_stamp()
        with self._lock:
            if (owner, repo, number) in self.pulls:
                self.pulls[(owner, repo, number)]["updated_at"] = stamp
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

    def _next_stamp(self) -> str:
        """Now as GitHub writes times, at least a second after the last one, so every change moves `updated_at`."""
        with self._lock:
            self._last_stamp = max(int(time.time()), self._last_stamp + 1)
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self._last_stamp))

    def fail_next(self, count: int, status: int, *, body: Any = None, headers: dict[str, str] | None = None) -> None:
        """Answer the next `count` requests with `status` (e.g. a 502, or a 403 secondary limit with Retry-After)."""
        reply = ScriptedResponse(
            status=status, body=body if body is not None else {"message": "scripted failure"}, headers=headers or {}
        )
        with self._lock:
            self._script.extend(copy.deepcopy(reply) for _ in range(count))

    def answer_late(self, method: str, path_fragment: str, seconds: float) -> None:
        """Do the next `method` request to a path containing `path_fragment`, then wait `seconds` before answering.

        A client that gives up sooner sees a timeout although the request took effect (a comment was created).
        """
        with self._lock:
            self._late.append((method.upper(), path_fragment, seconds))

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
