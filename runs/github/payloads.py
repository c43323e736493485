"""GitHub webhook deliveries: signature verification and parsing into dataclasses (pure, no database)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fleetui.common.text import parse_time
from fleetui.common.untrusted import json_loads_bounded
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
    expected = hmac.new(key, body, hashlib.sha256).hexdigest().encode()
    # As bytes: compare_digest refuses a str holding non-ASCII characters, which a forged header can carry.
    return hmac.compare_digest(expected, received.lower().encode("utf-8", "replace"))


def parse_delivery(*, secret: str | bytes, headers: Mapping[str, str], body: bytes) -> WebhookEvent | None:
    """Verify and parse one delivery from its raw headers and body; raises InvalidSignature or ValueError."""
    lowered = {key.lower(): value for key, value in headers.items()}
    if not verify_signature(secret, body, lowered.get("x-hub-signature-256")):
        raise InvalidSignature("X-Hub-Signature-256 does not match")
    payload = json_loads_bounded(body, what="webhook body")
    if not isinstance(payload, dict):
        raise ValueError("webhook body is not a JSON object")
    return parse_event(lowered.get("x-github-event", ""), payload, delivery_id=lowered.get("x-github-delivery", ""))


def parse_event(event: str, payload: dict[str, Any], *, delivery_id: str = "") -> WebhookEvent | None:
    """A dataclass for the deliveries the dashboard follows; None for other events and actions.

    A field of the wrong type raises ValueError (the endpoint answers 400): GitHub never sends one, so
    the sender holds the secret but not GitHub's shapes, and its delivery log should say so.
    """
    action = _text(payload, "action")
    owner, repo, repo_url = _repository(payload)
    common = {"event": event, "action": action, "owner": owner, "repo": repo, "delivery_id": delivery_id}
    if event == "pull_request" and action in PULL_REQUEST_ACTIONS:
        return _pull_request_event(_object(payload, "pull_request"), payload, common)
    if event == "pull_request_review" and action in REVIEW_ACTIONS:
        return _review_event(payload, common)
    if event in {"check_suite", "check_run"} and action in CHECK_ACTIONS:
        return _check_event(_object(payload, event), repo_url, common)
    return None


# -- typed readers: a missing or null field reads as empty, a field of another type is refused -------------------


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"webhook field {key!r} must be an object, not {type(value).__name__}")
    return value


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"webhook field {key!r} must be a string, not {type(value).__name__}")
    return value


def _whole(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
        raise ValueError(f"webhook field {key!r} must be a whole number, not {type(value).__name__}")
    return value


def _flag(data: dict[str, Any], key: str) -> bool | None:
    value = data.get(key)
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"webhook field {key!r} must be true, false or null, not {type(value).__name__}")
    return value


def _repository(payload: dict[str, Any]) -> tuple[str, str, str]:
    repository = _object(payload, "repository")
    owner, _, repo = _text(repository, "full_name").partition("/")
    if not repo:
        owner = _text(_object(repository, "owner"), "login")
        repo = _text(repository, "name")
    return owner, repo, _text(repository, "html_url")


def _pull_request_event(pull: dict[str, Any], payload: dict[str, Any], common: dict[str, Any]) -> PullRequestEvent:
    head = _object(pull, "head")
    # pr_state reads these three; check them before it does.
    _text(pull, "state"), _flag(pull, "merged"), _text(pull, "merged_at")
    state = pr_state(pull)
    return PullRequestEvent(
        **common,
        number=_whole(pull, "number") or _whole(payload, "number"),
        html_url=_text(pull, "html_url"),
        node_id=_text(pull, "node_id"),
        state=state,
        merged=state == "merged",
        draft=bool(_flag(pull, "draft")),
        mergeable=_flag(pull, "mergeable"),
        head_sha=_text(head, "sha"),
        head_ref=_text(head, "ref"),
        title=_text(pull, "title"),
        updated_at=parse_time(_text(pull, "updated_at")),
        merged_at=parse_time(_text(pull, "merged_at")),
    )


def _review_event(payload: dict[str, Any], common: dict[str, Any]) -> PullRequestReviewEvent:
    review = _object(payload, "review")
    pull = _object(payload, "pull_request")
    return PullRequestReviewEvent(
        **common,
        number=_whole(pull, "number"),
        html_url=_text(pull, "html_url"),
        review_id=_whole(review, "id"),
        reviewer=_text(_object(review, "user"), "login"),
        state=_text(review, "state").upper(),
        commit_id=_text(review, "commit_id"),
        submitted_at=parse_time(_text(review, "submitted_at")),
    )


def _pull_list(data: dict[str, Any]) -> list[Any]:
    value = data.get("pull_requests")
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"webhook field 'pull_requests' must be a list, not {type(value).__name__}")
    return value


def _check_event(check: dict[str, Any], repo_url: str, common: dict[str, Any]) -> CheckEvent:
    pulls = _pull_list(check)
    # A check run's own list can be empty while its suite's is not.
    if not pulls:
        pulls = _pull_list(_object(check, "check_suite"))
    refs = []
    for pull in pulls:
        if not isinstance(pull, dict):
            raise ValueError("webhook field 'pull_requests' must list objects")
        number = _whole(pull, "number")
        if number:
            # These entries carry only API URLs; the dashboard stores web URLs.
            refs.append(PullRef(number=number, html_url=f"{repo_url}/pull/{number}" if repo_url else ""))
    conclusion = _text(check, "conclusion")
    return CheckEvent(
        **common,
        check_id=_whole(check, "id"),
        name=_text(check, "name") or _text(_object(check, "app"), "name"),
        head_sha=_text(check, "head_sha"),
        status=_text(check, "status"),
        conclusion=conclusion or None,
        html_url=_text(check, "html_url"),
        pull_requests=refs,
    )
