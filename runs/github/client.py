"""GitHub REST and GraphQL client: conditional requests, pagination, rate limits and retries.

One client per worker thread; its transport makes every GET conditional on its ETag store (in memory, or the
database's with `etag_store=DatabaseETagStore()`) and keeps the last rate-limit headers it saw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fleetui.common.errors import PermanentAPIError, RateLimitedError
from runs.github.links import graphql_url_for, parse_pr_url
from runs.github.transport import VENDOR, GitHubTransport, response_json
from runs.github.types import (
    CheckRun,
    CombinedStatus,
    DraftState,
    IssueComment,
    NotModified,
    PullInfo,
    PullsListing,
    Review,
    check_run_from_payload,
    combined_status_from_payload,
    file_text_from_payload,
    pull_from_payload,
    review_from_payload,
)

__all__ = [
    "CheckRun",
    "CombinedStatus",
    "DraftState",
    "GitHubClient",
    "IssueComment",
    "NotModified",
    "PullFile",
    "PullInfo",
    "PullsListing",
    "Review",
    "graphql_url_for",
    "parse_pr_url",
]

MARK_READY_MUTATION = """
mutation($id: ID!) {
  markPullRequestReadyForReview(input: {pullRequestId: $id}) {
    pullRequest { id number isDraft }
  }
}
"""


@dataclass(frozen=True)
class PullFile:
    """One file a pull request changes; `patch` is None when GitHub sends none (binary or very large files)."""

    filename: str
    status: str  # added, removed, modified, renamed, copied, changed or unchanged
    additions: int
    deletions: int
    patch: str | None
    previous_filename: str | None
    blob_url: str


def _on_transport(name: str) -> property:
    """A client attribute that lives on its transport."""
    return property(
        lambda self: getattr(self.transport, name), lambda self, value: setattr(self.transport, name, value)
    )


class GitHubClient:
    """Talks to api.github.com or a GitHub Enterprise Server (set `base_url` to `https://host/api/v3`)."""

    def __init__(
        self,
        base_url: str = "https://api.github.com",
        token: str | None = None,
        *args: Any,
        graphql_url: str | None = None,
        **transport_options: Any,
    ) -> None:
        """`args` and `transport_options` (timeout, retries, sleep, clock, etag_store, ...) configure its transport."""
        self.base_url = base_url.rstrip("/")
        self.graphql_url = graphql_url or graphql_url_for(self.base_url)
        self.transport = GitHubTransport(self.base_url, token, *args, **transport_options)

    # What the transport has seen of the rate limit and of 304s, and its longest rate-limit wait, read on the client.
    max_rate_limit_wait = _on_transport("max_rate_limit_wait")
    rate_limit_remaining = _on_transport("rate_limit_remaining")
    rate_limit_reset = _on_transport("rate_limit_reset")
    not_modified_count = _on_transport("not_modified_count")

    # -- pull requests -------------------------------------------------------------------------------------------

    def get_pull(self, owner: str, repo: str, number: int, *, etag: str | None = None) -> PullInfo | NotModified:
        """One pull request; NotModified when `etag` is given and still current."""
        url = self._repo_url(owner, repo, "pulls", str(int(number)))
        return self.transport.fetch(url, parse=_tagged(pull_from_payload), etag=etag).value

    def list_pulls(self, owner: str, repo: str, state: str = "open", head: str | None = None) -> list[PullInfo]:
        """Pull requests of a repository (`state` open, closed or all; `head` as `owner:branch`), all pages."""
        params: dict[str, Any] = {"state": state}
        if head:
            params["head"] = head
        return self.transport.get_pages(self._repo_url(owner, repo, "pulls"), pull_from_payload, params=params)

    def pulls_listing(self, owner: str, repo: str) -> PullsListing:
        """The repository's most recently updated pull request (any state), in one conditional request.

        Sorted by update, its first page changes whenever any pull request of the repository changes, so while it
        answers 304 (free) nothing changed since `listed_at`.
        """
        params = {"state": "all", "sort": "updated", "direction": "desc", "per_page": 1}
        return self.transport.fetch(self._repo_url(owner, repo, "pulls"), parse=_listing, params=params).value

    def list_reviews(self, owner: str, repo: str, number: int) -> list[Review]:
        """Reviews of a pull request in submission order, all pages."""
        url = self._repo_url(owner, repo, "pulls", str(int(number)), "reviews")
        return self.transport.get_pages(url, review_from_payload)

    def list_pull_files(self, owner: str, repo: str, number: int, *, limit: int = 100) -> list[PullFile]:
        """The first `limit` (at most 100: one page) files a pull request changes, in GitHub's order."""
        url = self._repo_url(owner, repo, "pulls", str(int(number)), "files")
        params = {"per_page": max(1, min(int(limit), 100))}
        return self.transport.fetch(url, parse=_pull_files, params=params).value[:limit]

    def create_issue_comment(self, owner: str, repo: str, number: int, body: str) -> IssueComment:
        """Post a comment on a pull request's conversation (not retried after a 5xx, to avoid duplicates)."""
        url = self._repo_url(owner, repo, "issues", str(int(number)), "comments")
        response = self.transport.request("POST", url, json_body={"body": body}, idempotent=False)
        payload = response_json(response)
        return IssueComment(id=int(payload.get("id") or 0), html_url=payload.get("html_url") or "", body=body)

    def list_issue_comments(
        self, owner: str, repo: str, number: int, *, since: datetime | None = None
    ) -> list[IssueComment]:
        """Comments on a pull request's conversation, oldest first, all pages; `since`: only those updated since."""
        url = self._repo_url(owner, repo, "issues", str(int(number)), "comments")
        params = {"since": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")} if since is not None else None
        return self.transport.get_pages(url, _comment_from_payload, params=params)

    # -- CI --------------------------------------------------------------------------------------------------------

    def list_check_runs(self, owner: str, repo: str, ref: str) -> list[CheckRun]:
        """Latest check run per check on a commit or branch, all pages."""
        url = self._repo_url(owner, repo, "commits", ref, "check-runs")
        return self.transport.get_pages(
            url, check_run_from_payload, params={"filter": "latest"}, items_key="check_runs"
        )

    def get_combined_status(
        self, owner: str, repo: str, ref: str, *, etag: str | None = None
    ) -> CombinedStatus | NotModified:
        """Combined commit status of a ref (commit statuses only; check runs are separate)."""
        url = self._repo_url(owner, repo, "commits", ref, "status")
        parse = _tagged(combined_status_from_payload)
        return self.transport.fetch(url, parse=parse, params={"per_page": 100}, etag=etag).value

    # -- contents --------------------------------------------------------------------------------------------------

    def get_contents(self, owner: str, repo: str, path: str, *, ref: str | None = None) -> str | None:
        """Text of a file (e.g. `.github/CODEOWNERS`), or None when it does not exist or is not a file."""
        url = self._repo_url(owner, repo, "contents") + "/" + quote(path.lstrip("/"), safe="/")
        try:
            return self.transport.fetch(url, parse=_file_text, params={"ref": ref} if ref else None).value
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
        response = self.transport.request(
            "POST",
            self.graphql_url,
            json_body={"query": query, "variables": variables or {}},
            idempotent=idempotent,
            resource="graphql",
        )
        payload = response_json(response)
        errors = payload.get("errors") if isinstance(payload, dict) else None
        if errors:
            message = "; ".join(str(error.get("message", error)) for error in errors if isinstance(error, dict))
            if any(isinstance(error, dict) and error.get("type") == "RATE_LIMITED" for error in errors):
                raise RateLimitedError(message, retry_after=self.transport.seconds_to_reset("graphql"), vendor=VENDOR)
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


def _tagged(factory: Callable[..., Any]) -> Callable[[Any, str | None], Any]:
    return lambda payload, etag: factory(payload, etag=etag)


def _listing(payload: Any, _etag: str | None) -> PullsListing:
    if not isinstance(payload, list):
        raise PermanentAPIError("unexpected pull request list payload", vendor=VENDOR)
    top = pull_from_payload(payload[0]) if payload and isinstance(payload[0], dict) else None
    return PullsListing(
        listed_at=datetime.now(UTC),
        number=top.number if top else None,
        updated_at=top.updated_at if top else None,
    )


def _comment_from_payload(payload: Any) -> IssueComment:
    return IssueComment(
        id=int(payload.get("id") or 0), html_url=payload.get("html_url") or "", body=payload.get("body") or ""
    )


def _pull_files(payload: Any, _etag: str | None) -> list[PullFile]:
    if not isinstance(payload, list):
        raise PermanentAPIError("unexpected pull request files payload", vendor=VENDOR)
    return [
        PullFile(
            filename=str(item.get("filename") or ""),
            status=str(item.get("status") or ""),
            additions=int(item.get("additions") or 0),
            deletions=int(item.get("deletions") or 0),
            patch=item.get("patch") if isinstance(item.get("patch"), str) else None,
            previous_filename=item.get("previous_filename") or None,
            blob_url=str(item.get("blob_url") or ""),
        )
        for item in payload
        if isinstance(item, dict)
    ]


def _file_text(payload: Any, _etag: str | None) -> str | None:
    return file_text_from_payload(payload)
