"""GitHub webhook deliveries: signature verification and parsing into dataclasses (pure, no database)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fleetui.common.text import parse_time
from runs.github.state import pr_state

PULL_REQUEST_ACTIONS = frozenset(
    {"opened", "closed", "reopened", "ready_for_review", "converted_to_draft", "synchronize", "edited"}
)
REVIEW_ACTIONS = frozenset({"submitted", "dismissed", "edited"})
CHECK_ACTIONS = frozenset({"completed", "created", "requested", "rerequested", "requested_action"})


class InvalidSignature(Exception):
    """The delivery's X-Hub-Signature-256 does not match the shared secret."""


@dataclass(frozen=True)
class PullRef:
    """A pull request a check concerns."""

    number: int
    html_url: str


@dataclass(frozen=True)
class WebhookEvent:
    """Fields every parsed delivery has."""

    event: str
    action: str
    owner: str
    repo: str
    delivery_id: str


@dataclass(frozen=True)
class PullRequestEvent(WebhookEvent):
    """A pull request was opened, closed, merged, reopened, pushed to, edited, or changed draft state."""

    number: int = 0
    html_url: str = ""
    node_id: str = ""
    state: str = ""  # open, closed or merged
    merged: bool = False
    draft: bool = False
    mergeable: bool | None = None
    head_sha: str = ""
    head_ref: str = ""
    title: str = ""
    updated_at: datetime | None = None
    merged_at: datetime | None = None


@dataclass(frozen=True)
class PullRequestReviewEvent(WebhookEvent):
    """A review was submitted, edited or dismissed; `state` is upper case like the REST API's."""

    number: int = 0
    html_url: str = ""
    review_id: int = 0
    reviewer: str = ""
    state: str = ""
    commit_id: str = ""
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class CheckEvent(WebhookEvent):
    """A check suite or check run changed on `head_sha`; `pull_requests` lists the PRs it concerns."""

    check_id: int = 0
    name: str = ""
    head_sha: str = ""
    status: str = ""
    conclusion: str | None = None
    html_url: str = ""
    pull_requests: list[PullRef] = field(default_factory=list)


def verify_signature(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """True when `header` is `sha256=` + HMAC-SHA256(secret, body) in hex, compared in constant time."""
    if not header or not secret:
        return False
    algorithm, _, received = header.strip().partition("=")
    if algorithm != "sha256" or len(received) != 64:
        return False
    key = secret.encode() if isinstance(secret, str) else secret
    expected = hmac.new(key, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received.lower())


def parse_delivery(*, secret: str | bytes, headers: Mapping[str, str], body: bytes) -> WebhookEvent | None:
    """Verify and parse one delivery from its raw headers and body; raises InvalidSignature or ValueError."""
    lowered = {key.lower(): value for key, value in headers.items()}
    if not verify_signature(secret, body, lowered.get("x-hub-signature-256")):
        raise InvalidSignature("X-Hub-Signature-256 does not match")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("webhook body is not JSON") from exc
    if not isinstance(payload, dict):
        raise ValueError("webhook body is not a JSON object")
    return parse_event(lowered.get("x-github-event", ""), payload, delivery_id=lowered.get("x-github-delivery", ""))


def parse_event(event: str, payload: dict[str, Any], *, delivery_id: str = "") -> WebhookEvent | None:
    """A dataclass for the deliveries the dashboard follows; None for other events and actions."""
    action = payload.get("action") or ""
    owner, repo, repo_url = _repository(payload)
    common = {"event": event, "action": action, "owner": owner, "repo": repo, "delivery_id": delivery_id}
    if event == "pull_request" and action in PULL_REQUEST_ACTIONS:
        return _pull_request_event(payload.get("pull_request") or {}, payload, common)
    if event == "pull_request_review" and action in REVIEW_ACTIONS:
        return _review_event(payload, common)
    if event in {"check_suite", "check_run"} and action in CHECK_ACTIONS:
        return _check_event(payload.get(event) or {}, repo_url, common)
    return None


def _repository(payload: dict[str, Any]) -> tuple[str, str, str]:
    repository = payload.get("repository") or {}
    full_name = repository.get("full_name") or ""
    owner, _, repo = full_name.partition("/")
    if not repo:
        owner = (repository.get("owner") or {}).get("login") or ""
        repo = repository.get("name") or ""
    return owner, repo, repository.get("html_url") or ""


def _pull_request_event(pull: dict[str, Any], payload: dict[str, Any], common: dict[str, Any]) -> PullRequestEvent:
    head = pull.get("head") or {}
    state = pr_state(pull)
    return PullRequestEvent(
        **common,
        number=int(pull.get("number") or payload.get("number") or 0),
        html_url=pull.get("html_url") or "",
        node_id=pull.get("node_id") or "",
        state=state,
        merged=state == "merged",
        draft=bool(pull.get("draft")),
        mergeable=pull.get("mergeable"),
        head_sha=head.get("sha") or "",
        head_ref=head.get("ref") or "",
        title=pull.get("title") or "",
        updated_at=parse_time(pull.get("updated_at")),
        merged_at=parse_time(pull.get("merged_at")),
    )


def _review_event(payload: dict[str, Any], common: dict[str, Any]) -> PullRequestReviewEvent:
    review = payload.get("review") or {}
    pull = payload.get("pull_request") or {}
    return PullRequestReviewEvent(
        **common,
        number=int(pull.get("number") or 0),
        html_url=pull.get("html_url") or "",
        review_id=int(review.get("id") or 0),
        reviewer=(review.get("user") or {}).get("login") or "",
        state=(review.get("state") or "").upper(),
        commit_id=review.get("commit_id") or "",
        submitted_at=parse_time(review.get("submitted_at")),
    )


def _check_event(check: dict[str, Any], repo_url: str, common: dict[str, Any]) -> CheckEvent:
    pulls = check.get("pull_requests") or []
    # A check run's own list can be empty while its suite's is not.
    if not pulls and isinstance(check.get("check_suite"), dict):
        pulls = check["check_suite"].get("pull_requests") or []
    refs = []
    for pull in pulls:
        number = pull.get("number")
        if isinstance(number, int):
            # These entries carry only API URLs; the dashboard stores web URLs.
            refs.append(PullRef(number=number, html_url=f"{repo_url}/pull/{number}" if repo_url else ""))
    return CheckEvent(
        **common,
        check_id=int(check.get("id") or 0),
        name=check.get("name") or (check.get("app") or {}).get("name") or "",
        head_sha=check.get("head_sha") or "",
        status=check.get("status") or "",
        conclusion=check.get("conclusion"),
        html_url=check.get("html_url") or "",
        pull_requests=refs,
    )
