"""GitHub REST and GraphQL client: conditional requests, pagination, rate limits and retries.

One client per worker thread; it keeps an in-memory ETag cache and the last rate-limit headers it saw.
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlparse

import requests

from runs.clients.errors import PermanentAPIError, RateLimitedError, TransientAPIError
from runs.clients.github_types import (
    CheckRun,
    CombinedStatus,
    DraftState,
    IssueComment,
    NotModified,
    PullInfo,
    Review,
    check_run_from_payload,
    combined_status_from_payload,
    file_text_from_payload,
    pull_from_payload,
    review_from_payload,
)
from runs.clients.github_urls import graphql_url_for, parse_pr_url

__all__ = [
    "CheckRun",
    "CombinedStatus",
    "DraftState",
    "GitHubClient",
    "IssueComment",
    "NotModified",
    "PullInfo",
    "Review",
    "graphql_url_for",
    "parse_pr_url",
]

API_VERSION = "2022-11-28"
VENDOR = "GitHub"
# GitHub asks for at least a minute between retries after a secondary limit that names no wait.
SECONDARY_LIMIT_MIN_WAIT = 60.0
MAX_PAGES = 1000

MARK_READY_MUTATION = """
mutation($id: ID!) {
  markPullRequestReadyForReview(input: {pullRequestId: $id}) {
    pullRequest { id number isDraft }
  }
}
"""


class GitHubClient:
    """Talks to api.github.com or a GitHub Enterprise Server (set `base_url` to `https://host/api/v3`)."""

    def __init__(
        self,
        base_url: str = "https://api.github.com",
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
        graphql_url: str | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.graphql_url = graphql_url or graphql_url_for(self.base_url)
        self.timeout = timeout if isinstance(timeout, tuple) else (float(timeout), float(timeout))
        self.max_retries = max_retries
        self.max_rate_limit_wait = max_rate_limit_wait
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.page_size = page_size
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._origin = _origin(self.base_url)
        self._etag_cache_size = etag_cache_size
        self._etag_cache: OrderedDict[str, _Page] = OrderedDict()
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

    # -- pull requests -------------------------------------------------------------------------------------------

    def get_pull(self, owner: str, repo: str, number: int, *, etag: str | None = None) -> PullInfo | NotModified:
        """One pull request; NotModified when `etag` is given and still current."""
        url = self._repo_url(owner, repo, "pulls", str(int(number)))
        return self._fetch(url, parse=_tagged(pull_from_payload), etag=etag).value

    def list_pulls(self, owner: str, repo: str, state: str = "open", head: str | None = None) -> list[PullInfo]:
        """Pull requests of a repository (`state` open, closed or all; `head` as `owner:branch`), all pages."""
        params: dict[str, Any] = {"state": state}
        if head:
            params["head"] = head
        return self._get_pages(self._repo_url(owner, repo, "pulls"), pull_from_payload, params=params)

    def list_reviews(self, owner: str, repo: str, number: int) -> list[Review]:
        """Reviews of a pull request in submission order, all pages."""
        url = self._repo_url(owner, repo, "pulls", str(int(number)), "reviews")
        return self._get_pages(url, review_from_payload)

    def create_issue_comment(self, owner: str, repo: str, number: int, body: str) -> IssueComment:
        """Post a comment on a pull request's conversation (not retried after a 5xx, to avoid duplicates)."""
        url = self._repo_url(owner, repo, "issues", str(int(number)), "comments")
        response = self._request("POST", url, json_body={"body": body}, idempotent=False)
        payload = _json(response)
        return IssueComment(id=int(payload.get("id") or 0), html_url=payload.get("html_url") or "", body=body)

    # -- CI --------------------------------------------------------------------------------------------------------

    def list_check_runs(self, owner: str, repo: str, ref: str) -> list[CheckRun]:
        """Latest check run per check on a commit or branch, all pages."""
        url = self._repo_url(owner, repo, "commits", ref, "check-runs")
        return self._get_pages(url, check_run_from_payload, params={"filter": "latest"}, items_key="check_runs")

    def get_combined_status(
        self, owner: str, repo: str, ref: str, *, etag: str | None = None
    ) -> CombinedStatus | NotModified:
        """Combined commit status of a ref (commit statuses only; check runs are separate)."""
        url = self._repo_url(owner, repo, "commits", ref, "status")
        parse = _tagged(combined_status_from_payload)
        return self._fetch(url, parse=parse, params={"per_page": 100}, etag=etag).value

    # -- contents --------------------------------------------------------------------------------------------------

    def get_contents(self, owner: str, repo: str, path: str, *, ref: str | None = None) -> str | None:
        """Text of a file (e.g. `.github/CODEOWNERS`), or None when it does not exist or is not a file."""
        url = self._repo_url(owner, repo, "contents") + "/" + quote(path.lstrip("/"), safe="/")
        try:
            return self._fetch(url, parse=_file_text, params={"ref": ref} if ref else None).value
        except PermanentAPIError as exc:
            if exc.status == 404:
                return None
            raise

    # -- GraphQL ---------------------------------------------------------------------------------------------------

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, *, idempotent: bool = True
    ) -> dict[str, Any]:
        """Run a GraphQL query or mutation and return its `data`; GraphQL errors raise.

        Pass `idempotent=False` for mutations that must not run twice (they are then not retried after a 5xx).
        """
        response = self._request(
            "POST",
            self.graphql_url,
            json_body={"query": query, "variables": variables or {}},
            idempotent=idempotent,
            resource="graphql",
        )
        payload = _json(response)
        errors = payload.get("errors") if isinstance(payload, dict) else None
        if errors:
            message = "; ".join(str(error.get("message", error)) for error in errors if isinstance(error, dict))
            if any(isinstance(error, dict) and error.get("type") == "RATE_LIMITED" for error in errors):
                raise RateLimitedError(message, retry_after=self._seconds_to_reset("graphql"), vendor=VENDOR)
            raise PermanentAPIError(message or "GraphQL error", status=response.status_code, vendor=VENDOR)
        return (payload or {}).get("data") or {}

    def mark_ready_for_review(self, node_id: str) -> DraftState:
        """Turn a draft pull request into one ready for review (GraphQL only; REST cannot)."""
        data = self.graphql(MARK_READY_MUTATION, {"id": node_id})
        pull = (data.get("markPullRequestReadyForReview") or {}).get("pullRequest") or {}
        return DraftState(
            node_id=pull.get("id") or node_id, number=pull.get("number"), is_draft=bool(pull.get("isDraft"))
        )

    # -- plumbing --------------------------------------------------------------------------------------------------

    def _repo_url(self, owner: str, repo: str, *parts: str) -> str:
        segments = [quote(owner, safe=""), quote(repo, safe=""), *(quote(part, safe="") for part in parts)]
        return f"{self.base_url}/repos/" + "/".join(segments)

    def _fetch(
        self,
        url: str,
        *,
        parse: Callable[[Any, str | None], Any],
        params: dict[str, Any] | None = None,
        etag: str | None = None,
    ) -> _Page:
        """GET with If-None-Match: an explicit `etag` yields NotModified on 304, the cache yields its stored value.

        The cache keeps parsed values, not raw payloads, so it stays small across thousands of repositories.
        """
        key = _cache_key(url, params)
        cached = self._etag_cache.get(key) if self._etag_cache_size else None
        send_etag = etag or (cached.etag if cached else None)
        headers = {"If-None-Match": send_etag} if send_etag else None
        response = self._request("GET", url, params=params, headers=headers)
        if response.status_code == 304:
            self.not_modified_count += 1
            if etag is None and cached is not None:
                self._etag_cache.move_to_end(key)
                return cached
            not_modified = NotModified(etag=response.headers.get("ETag") or send_etag or "", url=url)
            return _Page(value=not_modified, etag=not_modified.etag, next_url=None)
        new_etag = response.headers.get("ETag")
        page = _Page(value=parse(_json(response), new_etag), etag=new_etag, next_url=self._next_link(response))
        if new_etag and self._etag_cache_size:
            self._etag_cache[key] = page
            self._etag_cache.move_to_end(key)
            while len(self._etag_cache) > self._etag_cache_size:
                self._etag_cache.popitem(last=False)
        return page

    def _get_pages(
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
            page = self._fetch(next_url, parse=parse, params=page_params)
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

    def _request(
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
            return self._seconds_to_reset(resource) or 0.0
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

    def _seconds_to_reset(self, resource: str) -> float | None:
        limit = self._limits.get(resource)
        if limit is None:
            return None
        return max(0.0, limit[1] - self._clock())

    def _wait_for_reset(self, resource: str) -> None:
        """Before sending: when the budget is spent, wait for the reset (bounded) instead of burning a request."""
        limit = self._limits.get(resource)
        if limit is None or limit[0] > 0:
            return
        wait = self._seconds_to_reset(resource) or 0.0
        if wait > self.max_rate_limit_wait:
            raise RateLimitedError(f"{resource} rate limit exhausted", retry_after=wait, vendor=VENDOR)
        if wait > 0:
            self._sleep(wait)
        del self._limits[resource]


@dataclass(frozen=True)
class _Page:
    value: Any
    etag: str | None
    next_url: str | None


def _tagged(factory: Callable[..., Any]) -> Callable[[Any, str | None], Any]:
    return lambda payload, etag: factory(payload, etag=etag)


def _file_text(payload: Any, _etag: str | None) -> str | None:
    return file_text_from_payload(payload)


def _origin(url: str) -> str:
    parsed = urlparse(url)
    return f"{parsed.scheme}://{parsed.netloc}".lower()


def _cache_key(url: str, params: dict[str, Any] | None) -> str:
    if not params:
        return url
    return url + "?" + "&".join(f"{key}={params[key]}" for key in sorted(params))


def _json(response: requests.Response) -> Any:
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError as exc:
        raise TransientAPIError(
            f"invalid JSON from {response.url}", status=response.status_code, vendor=VENDOR
        ) from exc


def _error_message(response: requests.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return (response.text or response.reason or "").strip()[:500]
    if isinstance(payload, dict) and payload.get("message"):
        return str(payload["message"])[:500]
    return (response.reason or "")[:500]
