"""The reviewer gate: approve an agent's pull request or request changes, and send the decision to GitHub.

The decision row is written (and audited) in the request; GitHub is called afterwards by a task, so a slow
or failing GitHub never holds a database transaction or the reviewer's page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from fleetui.common.errors import PermanentAPIError, TransientAPIError
from fleetui.common.liveness import ClaimLost, heartbeat
from fleetui.common.models import Recovered
from fleetui.common.roles import real_user
from runs.fleet.audit import audit_event_record
from runs.fleet.models import Migration, PullRequest
from runs.github.client import GitHubClient, PullInfo
from runs.github.links import parse_pr_url
from runs.github.sync import github_client
from runs.reviews.models import ReviewDecision, ReviewPattern

logger = logging.getLogger(__name__)

MAX_TAGS = 10
MAX_TAG_LENGTH = 100
# Comments are looked for from a little before the first POST: GitHub's clock and ours may differ.
COMMENT_CLOCK_SKEW = timedelta(minutes=10)
GAVE_UP = "Workers kept stopping while this decision was sent to GitHub; check the pull request."


class ReviewError(Exception):
    """A decision that cannot be recorded (no attempt, bad tags, nothing said)."""


class AlreadyDecided(ReviewError):
    """The attempt already has the other decision."""


def review_patterns_resolve(*, migration: Migration, tags: Iterable[str]) -> list[ReviewPattern]:
    """The migration's patterns for the given tags (slugs or labels); free text creates a new pattern."""
    patterns: dict[str, ReviewPattern] = {}
    for raw in tags:
        label = " ".join(str(raw).split())[:MAX_TAG_LENGTH]
        slug = slugify(label)[:MAX_TAG_LENGTH]
        if not slug or slug in patterns:
            continue
        pattern, _ = ReviewPattern.objects.get_or_create(migration=migration, slug=slug, defaults={"label": label})
        patterns[slug] = pattern
    if len(patterns) > MAX_TAGS:
        raise ReviewError(f"at most {MAX_TAGS} pattern tags per decision")
    return list(patterns.values())


def review_decision_record(
    *,
    pull_request: PullRequest,
    decision: str,
    reviewer: Any,
    reason: str = "",
    tags: Iterable[str] = (),
    comment: bool = False,
) -> tuple[ReviewDecision, bool]:
    """Records a reviewer's decision on the pull request's attempt once; (decision, created).

    A repeated identical decision (a double click) returns the first one; a different decision on an
    attempt already decided raises ReviewError. GitHub is updated by a task once the row commits.
    """
    # Here, not at the top: the tasks module imports this one.
    from runs.reviews.tasks import review_decision_push_task

    if decision not in ReviewDecision.Decision.values:
        raise ReviewError(f"unknown decision {decision[:40]!r}")
    if pull_request.attempt_id is None:
        raise ReviewError("this pull request is not linked to an attempt")
    tags = list(tags)
    if decision == ReviewDecision.Decision.REQUEST_CHANGES and not (reason.strip() or tags):
        raise ReviewError("say what to change: a reason or at least one pattern tag")
    existing = ReviewDecision.objects.filter(pull_request=pull_request, attempt_id=pull_request.attempt_id).first()
    if existing is not None:
        return _same_or_error(existing, decision)
    needs_github = decision == ReviewDecision.Decision.APPROVE or comment
    try:
        with transaction.atomic():
            row = ReviewDecision.objects.create(
                pull_request=pull_request,
                attempt_id=pull_request.attempt_id,
                migration_id=pull_request.migration_id,
                decision=decision,
                reviewer=real_user(reviewer),
                reviewer_name=reviewer.get_username() if real_user(reviewer) else "",
                reason=reason.strip()[:5000],
                comment=bool(comment and decision == ReviewDecision.Decision.REQUEST_CHANGES),
                github_status=(
                    ReviewDecision.GitHubStatus.PENDING if needs_github else ReviewDecision.GitHubStatus.NOT_NEEDED
                ),
                queued_at=timezone.now() if needs_github else None,
            )
            patterns = review_patterns_resolve(migration=pull_request.migration, tags=tags)
            row.patterns.set(patterns)
            audit_event_record(
                actor=reviewer,
                verb=f"review.{decision}",
                target=pull_request,
                migration=pull_request.migration,
                data={
                    "attempt": pull_request.attempt_id,
                    "reason": row.reason[:500],
                    "tags": [p.slug for p in patterns],
                    "comment": row.comment,
                },
            )
    except IntegrityError:
        # Another request recorded the decision between our read and our insert.
        existing = ReviewDecision.objects.get(pull_request=pull_request, attempt_id=pull_request.attempt_id)
        return _same_or_error(existing, decision)
    if needs_github:
        transaction.on_commit(partial(review_decision_push_task.delay, row.pk))
    return row, True


def _same_or_error(existing: ReviewDecision, decision: str) -> tuple[ReviewDecision, bool]:
    if existing.decision != decision:
        raise AlreadyDecided(
            f"already decided: {existing.get_decision_display()} by {existing.reviewer_name or 'someone'}"
        )
    return existing, False


def review_decisions_bulk_record(
    *,
    pull_requests: Iterable[PullRequest],
    decision: str,
    reviewer: Any,
    reason: str = "",
    tags: Iterable[str] = (),
    comment: bool = False,
) -> tuple[list[ReviewDecision], list[str]]:
    """Records one decision on each pull request; (new decisions, problems), one problem line per one skipped.

    Each decision is recorded (and audited) on its own, exactly as from the pull request's own row.
    """
    created, problems = [], []
    tags = list(tags)
    for pr in pull_requests:
        try:
            row, new = review_decision_record(
                pull_request=pr, decision=decision, reviewer=reviewer, reason=reason, tags=tags, comment=comment
            )
        except ReviewError as exc:
            problems.append(f"{pr.url}: {exc}")
            continue
        if new:
            created.append(row)
    return created, problems


def review_decision_push(
    *, decision_id: int, client: GitHubClient | None = None, final: bool = False, retry_within: float = 0.0
) -> str:
    """Sends a decision to GitHub: approval marks the draft ready for review, a request may post a comment.

    Returns the decision's GitHub status. Transient errors put it back to pending and are raised for a retry
    (unless `final`, when they are recorded as the error); `retry_within` is the longest the retry may wait, so
    the watchdog does not take a waiting retry for a lost one. A heartbeat thread beats while GitHub answers.
    """
    claimed = ReviewDecision.objects.filter(pk=decision_id, github_status=ReviewDecision.GitHubStatus.PENDING).update(
        github_status=ReviewDecision.GitHubStatus.RUNNING, **ReviewDecision.claim_fields()
    )
    if not claimed:
        return "skipped"
    row = ReviewDecision.objects.select_related("pull_request").prefetch_related("patterns").get(pk=decision_id)
    # Every write of the outcome holds while this claim does: after a recovery the decision is not ours.
    held = ReviewDecision.objects.filter(
        pk=decision_id, claim_token=row.claim_token, github_status=ReviewDecision.GitHubStatus.RUNNING
    )
    if client is None:
        client = github_client()
    try:
        with heartbeat(row):
            _push(row, client, held)
    except ClaimLost:
        return "skipped"
    except TransientAPIError as exc:
        if not final:
            held.update(
                github_status=ReviewDecision.GitHubStatus.PENDING,
                github_error=str(exc)[:2000],
                claim_token="",
                heartbeat_at=None,
                queued_at=timezone.now() + timedelta(seconds=retry_within),
            )
            raise
        return _failed(held, decision_id, exc)
    except (PermanentAPIError, ValueError) as exc:
        return _failed(held, decision_id, exc)
    done = held.update(
        github_status=ReviewDecision.GitHubStatus.DONE,
        github_error="",
        github_done_at=timezone.now(),
        comment_url=row.comment_url,
    )
    return ReviewDecision.GitHubStatus.DONE if done else "skipped"


def review_decisions_recover(*, cutoff: datetime | None = None) -> Recovered:
    """Queues again, once each, the pushes whose worker stopped beating (or whose queued task was lost)."""
    # Here, not at the top: the tasks module imports this one.
    from runs.reviews.tasks import review_decision_push_task

    recovered = ReviewDecision.recover_stale(
        cutoff=cutoff,
        retry_fields={"queued_at": timezone.now()},
        give_up_fields={"github_error": GAVE_UP},
    )
    for pk in recovered.retried:
        transaction.on_commit(partial(review_decision_push_task.delay, pk))
    return recovered


def review_decision_retry_due(*, decision_id: int, within: float) -> None:
    """Tells the watchdog that a pending push waits for a retry due within `within` seconds."""
    ReviewDecision.objects.filter(
        pk=decision_id, github_status=ReviewDecision.GitHubStatus.PENDING, claim_token="", heartbeat_at=None
    ).update(queued_at=timezone.now() + timedelta(seconds=within))


def _failed(held, decision_id: int, exc: Exception) -> str:
    logger.warning("review decision %s not sent to GitHub: %s", decision_id, exc)
    held.update(github_status=ReviewDecision.GitHubStatus.FAILED, github_error=str(exc)[:2000])
    return ReviewDecision.GitHubStatus.FAILED


def _push(row: ReviewDecision, client: GitHubClient, held) -> None:
    pr = row.pull_request
    owner, repo, number = parse_pr_url(pr.url)
    if row.decision == ReviewDecision.Decision.APPROVE:
        pull = client.get_pull(owner, repo, number)
        if not isinstance(pull, PullInfo):
            raise PermanentAPIError("GitHub did not return the pull request", vendor="GitHub")
        if pull.draft:
            client.mark_ready_for_review(pull.node_id)
        PullRequest.objects.filter(pk=pr.pk).update(draft=False, state=pull.state, etag="")
        return
    if not row.comment:
        return
    marker = review_comment_marker(row)
    if row.comment_attempted_at is not None:
        # An earlier POST may have created the comment even though its answer never came back (a timeout, a
        # killed worker): look for the marker before posting again.
        since = row.comment_attempted_at - COMMENT_CLOCK_SKEW
        for existing in client.list_issue_comments(owner, repo, number, since=since):
            if marker in existing.body:
                row.comment_url = existing.html_url
                return
    now = timezone.now()
    if not held.update(comment_attempted_at=now, heartbeat_at=now):
        raise ClaimLost(row.pk)
    comment = client.create_issue_comment(owner, repo, number, review_comment_text(row))
    row.comment_url = comment.html_url


def review_comment_marker(row: ReviewDecision) -> str:
    """The hidden line that identifies a decision's comment on GitHub (an HTML comment is not rendered)."""
    return f"<!-- fleetui:decision:{row.pk} -->"


def review_comment_text(row: ReviewDecision) -> str:
    """The comment posted on a pull request a reviewer sent back, ending in its hidden marker."""
    lines = ["Changes requested by a reviewer" + (f" ({row.reviewer_name})" if row.reviewer_name else "") + "."]
    if row.reason:
        lines += ["", row.reason]
    labels = [pattern.label for pattern in row.patterns.all()]
    if labels:
        lines += ["", "Patterns: " + ", ".join(labels)]
    lines += ["", review_comment_marker(row)]
    return "\n".join(lines)
