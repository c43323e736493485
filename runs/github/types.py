"""Dataclasses the GitHub client returns, and their construction from GitHub's REST payloads."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from fleetui.common.text import parse_time
from runs.github.state import pr_state


@dataclass(frozen=True)
class NotModified:
    """GitHub answered 304: the resource still matches the ETag the caller sent."""

    etag: str
    url: str = ""


@dataclass(frozen=True)
class PullInfo:
    """A pull request as the dashboard needs it; `mergeable` is None while GitHub computes it (or in list items)."""

    owner: str
    repo: str
    number: int
    state: str  # open, closed or merged
    draft: bool
    mergeable: bool | None
    mergeable_state: str | None
    head_sha: str
    head_ref: str
    base_ref: str
    title: str
    html_url: str
    node_id: str
    updated_at: datetime | None
    merged_at: datetime | None
    closed_at: datetime | None
    etag: str | None = None


@dataclass(frozen=True)
class PullsListing:
    """When a repository's pull requests were last listed with a full answer, and the most recently updated one.

    Stored with the listing's ETag: while GitHub answers 304, `listed_at` stays that of the last full answer.
    """

    listed_at: datetime
    number: int | None
    updated_at: datetime | None


@dataclass(frozen=True)
class Review:
    """One submitted review; `state` is upper case as over REST (APPROVED, CHANGES_REQUESTED, ...)."""

    id: int
    user: str
    state: str
    submitted_at: datetime | None
    commit_id: str
    html_url: str


@dataclass(frozen=True)
class CheckRun:
    """One check run on a commit; `conclusion` is None until it completes."""

    id: int
    name: str
    status: str
    conclusion: str | None
    head_sha: str
    html_url: str
    details_url: str
    app: str
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class CommitStatus:
    """One commit status (the older statuses API, used by external CI systems)."""

    context: str
    state: str
    description: str
    target_url: str


@dataclass(frozen=True)
class CombinedStatus:
    """Combined commit status of a ref; `total_count` 0 means no commit statuses at all (Actions-only repos)."""

    state: str
    sha: str
    total_count: int
    statuses: list[CommitStatus] = field(default_factory=list)
    etag: str | None = None


@dataclass(frozen=True)
class IssueComment:
    """A comment the client posted on an issue or pull request."""

    id: int
    html_url: str
    body: str


@dataclass(frozen=True)
class DraftState:
    """A pull request's draft flag after a GraphQL mutation."""

    node_id: str
    number: int | None
    is_draft: bool


def pull_from_payload(payload: dict[str, Any], *, etag: str | None = None) -> PullInfo:
    """PullInfo from a pulls.get payload, a pulls.list item or a webhook's pull_request object."""
    head = payload.get("head") or {}
    base = payload.get("base") or {}
    owner, repo = _owner_repo(payload)
    return PullInfo(
        owner=owner,
        repo=repo,
        number=int(payload["number"]),
        state=pr_state(payload),
        draft=bool(payload.get("draft")),
        mergeable=payload.get("mergeable"),
        mergeable_state=payload.get("mergeable_state"),
        head_sha=head.get("sha") or "",
        head_ref=head.get("ref") or "",
        base_ref=base.get("ref") or "",
        title=payload.get("title") or "",
        html_url=payload.get("html_url") or "",
        node_id=payload.get("node_id") or "",
        updated_at=parse_time(payload.get("updated_at")),
        merged_at=parse_time(payload.get("merged_at")),
        closed_at=parse_time(payload.get("closed_at")),
        etag=etag,
    )


def _owner_repo(payload: dict[str, Any]) -> tuple[str, str]:
    full_name = ((payload.get("base") or {}).get("repo") or {}).get("full_name") or ""
    if "/" in full_name:
        owner, repo = full_name.split("/", 1)
        return owner, repo
    parts = urlparse(payload.get("html_url") or "").path.strip("/").split("/")
    return (parts[0], parts[1]) if len(parts) >= 2 else ("", "")


def review_from_payload(payload: dict[str, Any]) -> Review:
    """Review from a pulls.list-reviews item or a webhook's review object."""
    return Review(
        id=int(payload.get("id") or 0),
        user=(payload.get("user") or {}).get("login") or "",
        state=(payload.get("state") or "").upper(),
        submitted_at=parse_time(payload.get("submitted_at")),
        commit_id=payload.get("commit_id") or "",
        html_url=payload.get("html_url") or "",
    )


def check_run_from_payload(payload: dict[str, Any]) -> CheckRun:
    """CheckRun from a checks.list-for-ref item or a webhook's check_run object."""
    return CheckRun(
        id=int(payload.get("id") or 0),
        name=payload.get("name") or "",
        status=payload.get("status") or "",
        conclusion=payload.get("conclusion"),
        head_sha=payload.get("head_sha") or "",
        html_url=payload.get("html_url") or "",
        details_url=payload.get("details_url") or "",
        app=(payload.get("app") or {}).get("slug") or "",
        started_at=parse_time(payload.get("started_at")),
        completed_at=parse_time(payload.get("completed_at")),
    )


def combined_status_from_payload(payload: dict[str, Any], *, etag: str | None = None) -> CombinedStatus:
    """CombinedStatus from a repos.get-combined-status-for-ref payload."""
    statuses = [
        CommitStatus(
            context=item.get("context") or "",
            state=item.get("state") or "",
            description=item.get("description") or "",
            target_url=item.get("target_url") or "",
        )
        for item in payload.get("statuses") or []
    ]
    return CombinedStatus(
        state=payload.get("state") or "",
        sha=payload.get("sha") or "",
        total_count=int(payload.get("total_count") or len(statuses)),
        statuses=statuses,
        etag=etag,
    )


def file_text_from_payload(payload: Any) -> str | None:
    """Decoded text of a repos.get-content file payload; None for directories, symlinks and undecoded blobs."""
    if not isinstance(payload, dict) or payload.get("type") != "file" or payload.get("encoding") != "base64":
        return None
    return base64.b64decode(payload.get("content") or "").decode("utf-8", errors="replace")
