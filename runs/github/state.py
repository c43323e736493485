"""Pure rules that turn GitHub payloads into a pull request's CI state, review decision and lifecycle state.

Every function accepts either raw payload dicts (REST or webhook) or the client's dataclasses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

PENDING_STATUSES = frozenset({"queued", "in_progress", "waiting", "requested", "pending"})
FAILING_CONCLUSIONS = frozenset({"failure", "timed_out", "cancelled", "action_required", "startup_failure"})
PASSING_CONCLUSIONS = frozenset({"success"})
# Neutral, skipped and stale runs neither pass nor fail a pull request.
NEUTRAL_CONCLUSIONS = frozenset({"neutral", "skipped", "stale"})
FAILING_COMMIT_STATES = frozenset({"failure", "error"})


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _check_run_outcome(run: Any) -> str:
    status = (_get(run, "status") or "").lower()
    conclusion = (_get(run, "conclusion") or "").lower()
    if status and status != "completed":
        return "pending"
    if conclusion in FAILING_CONCLUSIONS:
        return "failure"
    if conclusion in PASSING_CONCLUSIONS:
        return "success"
    if not conclusion:
        # Completed without a conclusion should not happen; treat it as still settling.
        return "pending"
    return "neutral"


def _commit_status_outcome(combined_status: Any) -> str:
    if combined_status is None:
        return ""
    statuses = _get(combined_status, "statuses") or []
    total = _get(combined_status, "total_count")
    if total is None:
        total = len(statuses)
    # With no commit statuses GitHub still reports "pending"; that says nothing about CI.
    if not total:
        return ""
    state = (_get(combined_status, "state") or "").lower()
    if state in FAILING_COMMIT_STATES:
        return "failure"
    if state == "pending":
        return "pending"
    if state == "success":
        return "success"
    return ""


def ci_state(check_runs: Iterable[Any] | None, combined_status: Any = None) -> str:
    """Overall CI state: "failure", "pending", "success", "neutral", or "" when no CI reported at all."""
    outcomes = [_check_run_outcome(run) for run in check_runs or []]
    outcomes.append(_commit_status_outcome(combined_status))
    # A known failure is the most useful thing to show, even while other checks still run.
    for state in ("failure", "pending", "success", "neutral"):
        if state in outcomes:
            return state
    return ""


def review_decision(reviews: Iterable[Any] | None, *, required: bool = False) -> str:
    """Decision from each reviewer's latest approving, blocking or dismissed review, in submission order.

    Returns "changes_requested", "approved", "review_required" (a review was dismissed, or `required` and no
    decision yet), "commented" (only comments), or "" (no reviews).
    """
    latest: dict[str, str] = {}
    commented = False
    items = list(reviews or [])
    # The REST list is chronological already; webhook batches may not be, so sort (stably) when times are known.
    times = [_get(review, "submitted_at") for review in items]
    if items and all(times) and len({type(t) for t in times}) == 1:
        items = sorted(items, key=lambda review: _get(review, "submitted_at"))
    for review in items:
        state = (_get(review, "state") or "").upper()
        user = _reviewer(review)
        if state == "COMMENTED":
            commented = True
        elif state in {"APPROVED", "CHANGES_REQUESTED", "DISMISSED"}:
            latest[user] = state
    decisions = set(latest.values())
    if "CHANGES_REQUESTED" in decisions:
        return "changes_requested"
    if "APPROVED" in decisions:
        return "approved"
    if "DISMISSED" in decisions or required:
        return "review_required"
    if commented:
        return "commented"
    return ""


def _reviewer(review: Any) -> str:
    user = _get(review, "user")
    if isinstance(user, str):
        return user
    # Webhook review events name the reviewer directly.
    return _get(user, "login") or _get(review, "reviewer") or ""


def pr_state(payload: Any) -> str:
    """ "merged" when `merged` is true or `merged_at` is set, else GitHub's "open" or "closed"."""
    if isinstance(payload, Mapping) and isinstance(payload.get("pull_request"), Mapping):
        payload = payload["pull_request"]
    if _get(payload, "merged") is True or _get(payload, "merged_at"):
        return "merged"
    state = (_get(payload, "state") or "").lower()
    if state == "merged":
        return "merged"
    return "closed" if state == "closed" else "open"
