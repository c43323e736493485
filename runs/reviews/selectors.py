"""Read-only queries for the reviewer gate: the queue, decisions, patterns and judge calibration."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from runs.fleet.models import Migration, Outcome, Phase, PullRequest, Verdict, VerifierResult
from runs.reviews.filters import QueueFilters
from runs.reviews.models import ReviewDecision, ReviewPattern

JUDGE_REJECTED_VERDICTS = (Verdict.REJECT, Verdict.VETO)


# -- review queue ------------------------------------------------------------------------------------------------


def _awaiting(*, migration: Migration | None, filters: QueueFilters | None) -> QuerySet[PullRequest]:
    """The queue's pull requests by what each keeps: open or not read yet, still a draft (or not read yet), of
    an attempt that succeeded as a migration (`attempt_ready`, kept by the import), with no decision on that
    attempt yet; `filters` narrow them and set their order."""
    decided = ReviewDecision.objects.filter(pull_request=OuterRef("pk"), attempt=OuterRef("attempt_id"))
    prs = PullRequest.objects.filter(
        Q(draft=True) | Q(draft__isnull=True),
        state__in=(PullRequest.State.OPEN, PullRequest.State.UNKNOWN),
        attempt_ready=True,
        attempt__isnull=False,
    ).filter(~Exists(decided))
    if migration is not None:
        prs = prs.filter(migration=migration)
    return (filters or QueueFilters()).apply(prs)


def review_queue(*, migration: Migration | None = None, filters: QueueFilters | None = None) -> QuerySet[PullRequest]:
    """Agent pull requests awaiting a reviewer, oldest attempt first unless `filters` sort otherwise."""
    verifiers = VerifierResult.objects.only("id", "attempt_id", "position", "kind", "passed", "snippet")
    return (
        _awaiting(migration=migration, filters=filters)
        # What `attempt_ready` keeps, said again for the planner: the default order (oldest attempt first) then
        # walks the attempts' (outcome, phase, ended_at) index to the first page instead of sorting them all.
        .filter(attempt__outcome=Outcome.SUCCEEDED, attempt__phase=Phase.MIGRATION)
        # Joined: only what every row needs and the filters and sorts read. The migration and the team come in
        # small queries of their own: PostgreSQL spent 17 ms planning the seven-table join on every page, 2 ms
        # this one.
        .select_related("repository", "attempt__judge")
        # The trace outline and problems are the attempt page's, and the largest columns of a row.
        .defer("attempt__span_tree", "attempt__problems")
        .prefetch_related(
            "migration",
            "repository__team",
            Prefetch("attempt__verifier_results", queryset=verifiers.order_by("position")),
        )
    )


def review_queue_count(*, migration: Migration | None = None, filters: QueueFilters | None = None) -> int:
    """How many pull requests `review_queue` holds, from the pull requests alone: no attempt is joined unless a
    filter reads one (at full scale 2 ms, where joining the 125,000 passing attempts took 35-60 ms)."""
    return _awaiting(migration=migration, filters=filters).order_by().count()


def review_queue_total() -> int:
    """How many pull requests await a reviewer in every migration, whatever the filters."""
    return review_queue_count()


def pull_requests_for_review(*, ids: list[int]) -> list[PullRequest]:
    """The pull requests with these ids that are still in the review queue."""
    return list(review_queue().filter(pk__in=ids))


def review_decision_list(*, migration: Migration | None = None) -> QuerySet[ReviewDecision]:
    """Decisions, newest first, with their pull request, attempt and patterns."""
    decisions = ReviewDecision.objects.select_related("pull_request", "attempt__repository", "migration").defer(
        "attempt__span_tree", "attempt__problems"
    )
    if migration is not None:
        decisions = decisions.filter(migration=migration)
    return decisions.prefetch_related("patterns").order_by("-created_at", "-id")


# -- patterns ----------------------------------------------------------------------------------------------------


@dataclass
class PatternSummary:
    """A review pattern with how often reviewers used it and a few examples."""

    pattern: ReviewPattern
    count: int = 0
    examples: list[ReviewDecision] = field(default_factory=list)


def review_pattern_summaries(*, migration: Migration, examples: int = 3) -> list[PatternSummary]:
    """The migration's patterns, most used first, each with its latest decisions as examples (two queries)."""
    patterns = ReviewPattern.objects.filter(migration=migration).annotate(n=Count("decisions")).order_by("-n", "label")
    summaries = {p.pk: PatternSummary(pattern=p, count=p.n) for p in patterns}
    through = ReviewDecision.patterns.through.objects.filter(reviewpattern__migration=migration)
    links = through.select_related("reviewdecision__attempt__repository").order_by("-reviewdecision__created_at")
    for link in links[: max(len(summaries), 1) * examples * 4]:
        summary = summaries.get(link.reviewpattern_id)
        if summary is not None and len(summary.examples) < examples:
            summary.examples.append(link.reviewdecision)
    return list(summaries.values())


def review_pattern_notes(*, migration: Migration, summaries: list[PatternSummary]) -> str:
    """Plain-text notes a migration owner pastes into the prompt or the judge's instructions."""
    used = [summary for summary in summaries if summary.count]
    if not used:
        return ""
    lines = [f"Reviewers of {migration.slug} sent changes back for these reasons; avoid them:"]
    for summary in used:
        lines.append(f"- {summary.pattern.label} ({summary.count} times)")
        reasons = [example.reason.replace("\n", " ")[:200] for example in summary.examples if example.reason]
        for reason in reasons[:2]:
            lines.append(f"  e.g. {reason}")
    return "\n".join(lines)


# -- judge calibration -------------------------------------------------------------------------------------------


def judge_disagreements(*, migration: Migration | None = None) -> QuerySet[ReviewDecision]:
    """Decisions that contradict the judge: judge approved but changes were requested, or the reverse."""
    decisions = ReviewDecision.objects.filter(
        Q(decision=ReviewDecision.Decision.REQUEST_CHANGES, attempt__judge__verdict=Verdict.APPROVE)
        | Q(decision=ReviewDecision.Decision.APPROVE, attempt__judge__verdict__in=JUDGE_REJECTED_VERDICTS)
    )
    if migration is not None:
        decisions = decisions.filter(migration=migration)
    return (
        decisions.select_related("attempt__judge", "attempt__repository", "migration", "pull_request")
        .prefetch_related("patterns")
        .order_by("-created_at", "-id")
    )


@dataclass
class Calibration:
    """Judge-versus-reviewer counts."""

    decided: int = 0
    judge_too_lenient: int = 0  # judge approved, reviewer requested changes
    judge_too_strict: int = 0  # judge rejected, reviewer approved
    by_migration: list[tuple[str, int, int, int]] = field(default_factory=list)  # slug, decided, lenient, strict
    by_tag: list[tuple[str, int]] = field(default_factory=list)


def judge_calibration(*, migration: Migration | None = None) -> Calibration:
    """Counts of decisions and disagreements per migration and per pattern tag (three queries)."""
    decisions = ReviewDecision.objects.all()
    if migration is not None:
        decisions = decisions.filter(migration=migration)
    lenient = Q(decision=ReviewDecision.Decision.REQUEST_CHANGES, attempt__judge__verdict=Verdict.APPROVE)
    strict = Q(decision=ReviewDecision.Decision.APPROVE, attempt__judge__verdict__in=JUDGE_REJECTED_VERDICTS)
    rows = (
        decisions.values("migration__slug")
        .annotate(n=Count("id"), lenient=Count("id", filter=lenient), strict=Count("id", filter=strict))
        .order_by("migration__slug")
    )
    result = Calibration()
    for row in rows:
        result.by_migration.append((row["migration__slug"], row["n"], row["lenient"], row["strict"]))
        result.decided += row["n"]
        result.judge_too_lenient += row["lenient"]
        result.judge_too_strict += row["strict"]
    tags = Counter(
        dict(
            decisions.filter(lenient | strict)
            .values_list("patterns__label")
            .annotate(n=Count("id"))
            .exclude(patterns__label__isnull=True)
            .order_by()
        )
    )
    result.by_tag = sorted(tags.items(), key=lambda item: (-item[1], item[0]))
    return result
