"""Which pull requests a nudge may ask code owners to merge: open, not a draft, CI green or known to pass,
and approved by an internal reviewer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db.models import Exists, OuterRef, QuerySet

from runs.fleet.models import Outcome, PullRequest
from runs.reviews.models import ReviewDecision

GREEN_CHECKS = frozenset({"success", "passing"})
FAILING_CHECKS = frozenset({"failure", "failing", "error", "cancelled", "timed_out"})
RUNNING_CHECKS = frozenset({"pending", "running", "queued", "in_progress"})

# Why a pull request was left out, in the order the page lists them.
NOT_APPROVED = "not approved by an internal reviewer"
DRAFT = "still a draft"
DRAFT_UNKNOWN = "draft state not read from GitHub yet"
CI_FAILING = "CI failing"
CI_RUNNING = "CI still running"
CI_UNKNOWN = "no CI result"
NOT_OPEN = "not open"
REASONS = (NOT_APPROVED, DRAFT, DRAFT_UNKNOWN, CI_FAILING, CI_RUNNING, CI_UNKNOWN, NOT_OPEN)


def with_internal_approval(prs: QuerySet[PullRequest]) -> QuerySet[PullRequest]:
    """The pull requests annotated with `internally_approved`: a reviewer approved the attempt they come from."""
    approved = ReviewDecision.objects.filter(
        pull_request=OuterRef("pk"), attempt=OuterRef("attempt_id"), decision=ReviewDecision.Decision.APPROVE
    )
    return prs.annotate(internally_approved=Exists(approved))


def checks_known_passing(pr: PullRequest) -> bool:
    """CI is green on GitHub, or GitHub reports no checks and the agent's own verifiers passed the change."""
    checks = (pr.checks or "").strip().lower()
    if checks in GREEN_CHECKS:
        return True
    if checks in ("", "none"):
        return bool(pr.attempt_id) and pr.attempt is not None and pr.attempt.outcome == Outcome.SUCCEEDED
    return False


def not_ready_reasons(pr: PullRequest, *, approved: bool) -> list[str]:
    """Why this pull request should not be put in front of code owners yet; empty when it is ready."""
    reasons = []
    if pr.state != PullRequest.State.OPEN:
        reasons.append(NOT_OPEN)
    if not approved:
        reasons.append(NOT_APPROVED)
    if pr.draft is None:
        reasons.append(DRAFT_UNKNOWN)
    elif pr.draft:
        reasons.append(DRAFT)
    if not checks_known_passing(pr):
        checks = (pr.checks or "").strip().lower()
        reasons.append(
            CI_FAILING if checks in FAILING_CHECKS else CI_RUNNING if checks in RUNNING_CHECKS else CI_UNKNOWN
        )
    return reasons


def reason_counts(lines: Iterable[dict]) -> dict[str, int]:
    """How many left-out lines name each reason, in the order of REASONS."""
    counts = Counter(reason for line in lines for reason in line.get("reasons", ()))
    return {reason: counts[reason] for reason in REASONS if counts[reason]}
