"""Read-only queries behind the overview and the migration dashboard's charts, in a bounded number of queries."""

from dataclasses import dataclass, field

from django.db.models import Count, Max, Min, Q
from django.db.models.functions import TruncDate

from runs.fleet.models import (
    FAILED_OUTCOMES,
    Attempt,
    Migration,
    Outcome,
    Phase,
    PullRequest,
    RepositoryState,
    Target,
    VerifierResult,
)
from runs.fleet.selectors import state_counts
from runs.reviews.models import ReviewDecision


@dataclass
class MigrationSummary:
    """A migration with its repository counts by state."""

    migration: Migration
    repos: int = 0
    attempts: int = 0
    pre_existing: int = 0
    by_state: dict[str, int] = field(default_factory=dict)

    @property
    def state_counts(self) -> list[tuple[str, str, int]]:
        """(value, label, count) for every state, in the states' declared order."""
        return [(value, label, self.by_state.get(value, 0)) for value, label in RepositoryState.choices]


def migration_summary_list() -> list[MigrationSummary]:
    """Every migration with repos, attempts, pre-existing failures and counts by state (3 queries)."""
    summaries = {m.pk: MigrationSummary(migration=m) for m in Migration.objects.all()}
    for (migration_id, state), n in state_counts(Target.objects.all()).items():
        summary = summaries[migration_id]
        summary.by_state[state] = n
        summary.repos += n
    pre_existing = Target.objects.filter(pre_existing_failure=True).values("migration_id").annotate(n=Count("id"))
    for row in pre_existing.order_by():
        summaries[row["migration_id"]].pre_existing = row["n"]
    for row in Attempt.objects.values("migration_id").annotate(n=Count("id")).order_by():
        summaries[row["migration_id"]].attempts = row["n"]
    return list(summaries.values())


def migration_summary_get(*, migration: Migration) -> MigrationSummary:
    """One migration's counts."""
    summary = MigrationSummary(migration=migration)
    targets = Target.objects.filter(migration=migration)
    for (_, state), n in state_counts(targets).items():
        summary.by_state[state] = n
        summary.repos += n
    summary.pre_existing = targets.filter(pre_existing_failure=True).count()
    summary.attempts = Attempt.objects.filter(migration=migration).count()
    return summary


# --- dashboards ------------------------------------------------------------------------

VERIFIERS_PASSED_OUTCOMES = (Outcome.SUCCEEDED, Outcome.JUDGE_REJECTED, Outcome.NO_CHANGE)


def migration_funnel(*, migration: Migration, targeted: int) -> list[tuple[str, int]]:
    """Repositories reaching each step, from `targeted` to merged (3 queries)."""
    attempts = Attempt.objects.filter(migration=migration, phase=Phase.MIGRATION)
    reached = attempts.aggregate(
        ran=Count("repository_id", distinct=True),
        verified=Count("repository_id", distinct=True, filter=Q(outcome__in=VERIFIERS_PASSED_OUTCOMES)),
        approved=Count(
            "repository_id", distinct=True, filter=Q(outcome=Outcome.SUCCEEDED) | Q(judge__verdict="approve")
        ),
    )
    prs = PullRequest.objects.filter(migration=migration).aggregate(
        opened=Count("repository_id", distinct=True),
        merged=Count("repository_id", distinct=True, filter=Q(state=PullRequest.State.MERGED)),
    )
    steps = [
        ("targeted", targeted),
        ("agent ran", reached["ran"]),
        ("verifiers pass", reached["verified"]),
        ("judge approves", reached["approved"]),
        ("PR opened", prs["opened"]),
    ]
    reviewed = ReviewDecision.objects.filter(migration=migration, decision="approve").aggregate(
        n=Count("pull_request__repository_id", distinct=True)
    )
    steps.append(("internally approved", reviewed["n"]))
    steps.append(("merged", prs["merged"]))
    return steps


def migration_burndown_events(*, migration: Migration):
    """(repository id, end day, outcome) of the migration's ended attempts, in end-time order (one query)."""
    # Days rather than times: the burndown is per day, and dates are cheaper to read than aware datetimes.
    return (
        Attempt.objects.filter(migration=migration, phase=Phase.MIGRATION, ended_at__isnull=False)
        .annotate(day=TruncDate("ended_at"))
        .order_by("ended_at", "id")
        .values_list("repository_id", "day", "outcome")
        .iterator(chunk_size=5000)
    )


def migration_time_span(*, migration: Migration) -> tuple:
    """First and last attempt end time of the migration."""
    span = Attempt.objects.filter(migration=migration, ended_at__isnull=False).aggregate(
        first=Min("ended_at"), last=Max("ended_at")
    )
    return span["first"], span["last"]


def verifier_pass_rates(*, migration: Migration) -> list[tuple[str, int, int]]:
    """(build system, passed calls, calls) for the migration's attempts."""
    rows = (
        VerifierResult.objects.filter(attempt__migration=migration, attempt__phase=Phase.MIGRATION)
        .values("kind")
        .annotate(total=Count("id"), passed=Count("id", filter=Q(passed=True)))
        .order_by("kind")
    )
    return [(row["kind"], row["passed"], row["total"]) for row in rows]


def attempts_per_repository(*, migration: Migration) -> dict[int, int]:
    """Number of repositories per attempt count (repositories with no attempt left out)."""
    rows = (
        Target.objects.filter(migration=migration, attempts_count__gt=0)
        .values("attempts_count")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["attempts_count"]: row["n"] for row in rows}


def failure_origins(*, migration: Migration) -> dict[str, int]:
    """Failing repositories split into agent-introduced and pre-existing (baseline failed too)."""
    rows = (
        Target.objects.filter(migration=migration, state__in=FAILED_OUTCOMES)
        .values("pre_existing_failure")
        .annotate(n=Count("id"))
        .order_by()
    )
    found = {row["pre_existing_failure"]: row["n"] for row in rows}
    return {"agent": found.get(False, 0), "pre_existing": found.get(True, 0)}


def prompt_revision_outcomes(*, migration: Migration) -> list[tuple[int, int, int]]:
    """(revision number, failed attempts, attempts) per prompt revision, oldest first."""
    rows = (
        Attempt.objects.filter(migration=migration, phase=Phase.MIGRATION, prompt_revision__isnull=False)
        .values("prompt_revision__number")
        .annotate(total=Count("id"), failed=Count("id", filter=Q(outcome__in=FAILED_OUTCOMES)))
        .order_by("prompt_revision__number")
    )
    return [(row["prompt_revision__number"], row["failed"], row["total"]) for row in rows]


def failures_per_day(*, since) -> dict[int, dict]:
    """Failed attempts per migration per day since a time (one query)."""
    rows = (
        Attempt.objects.filter(phase=Phase.MIGRATION, outcome__in=FAILED_OUTCOMES, ended_at__gte=since)
        .annotate(day=TruncDate("ended_at"))
        .values("migration_id", "day")
        .annotate(n=Count("id"))
        .order_by()
    )
    found: dict[int, dict] = {}
    for row in rows:
        found.setdefault(row["migration_id"], {})[row["day"]] = row["n"]
    return found
