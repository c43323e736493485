"""Read-only queries behind the overview and the migration dashboard's charts, in a bounded number of queries."""

from dataclasses import dataclass, field

from django.db.models import Count, Exists, Max, Min, OuterRef, Q
from django.db.models.functions import TruncDate
from django.urls import reverse

from fleetui.common.charts import ClusterBar
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
from triage.clusters.models import FailureCluster

# A repository's failure is pre-existing when its baseline failed before any change and no migration attempt has
# passed since; it is agent-introduced when a migration attempt fails and the baseline did not. Every count of
# either, in the header, the donut, the overview and the API, comes from `failure_origins_by_migration`.
PASSING_STATES = (RepositoryState.SUCCEEDED, RepositoryState.NO_CHANGE)
PRE_EXISTING = Q(pre_existing_failure=True) & ~Q(state__in=PASSING_STATES)
AGENT_INTRODUCED = Q(pre_existing_failure=False, state__in=FAILED_OUTCOMES)


@dataclass(frozen=True)
class FailureOrigins:
    """Repositories failing now, by where the failure comes from."""

    agent: int = 0
    pre_existing: int = 0

    @property
    def total(self) -> int:
        return self.agent + self.pre_existing


def failure_origins_by_migration(*, migration: Migration | None = None) -> dict[int, FailureOrigins]:
    """migration id -> its agent-introduced and pre-existing failures (one query); migrations without either are
    left out."""
    targets = Target.objects.all() if migration is None else Target.objects.filter(migration=migration)
    rows = (
        targets.values("migration_id")
        .annotate(agent=Count("id", filter=AGENT_INTRODUCED), pre_existing=Count("id", filter=PRE_EXISTING))
        .order_by()
    )
    return {row["migration_id"]: FailureOrigins(row["agent"], row["pre_existing"]) for row in rows}


@dataclass
class MigrationSummary:
    """A migration with its repository counts by state."""

    migration: Migration
    repos: int = 0
    attempts: int = 0
    origins: FailureOrigins = field(default_factory=FailureOrigins)
    by_state: dict[str, int] = field(default_factory=dict)

    @property
    def pre_existing(self) -> int:
        """Pre-existing failures (see `PRE_EXISTING`): the same number wherever it is shown."""
        return self.origins.pre_existing

    @property
    def state_counts(self) -> list[tuple[str, str, int]]:
        """(value, label, count) for every state, in the states' declared order."""
        return [(value, label, self.by_state.get(value, 0)) for value, label in RepositoryState.choices]


def migration_summary_list() -> list[MigrationSummary]:
    """Every migration with repos, attempts, failure origins and counts by state (4 queries)."""
    summaries = {m.pk: MigrationSummary(migration=m) for m in Migration.objects.all()}
    for (migration_id, state), n in state_counts(Target.objects.all()).items():
        summary = summaries[migration_id]
        summary.by_state[state] = n
        summary.repos += n
    for migration_id, origins in failure_origins_by_migration().items():
        summaries[migration_id].origins = origins
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
    summary.origins = failure_origins_by_migration(migration=migration).get(migration.pk, FailureOrigins())
    summary.attempts = Attempt.objects.filter(migration=migration).count()
    return summary


# --- dashboards ------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStage:
    """One step of the funnel: the repositories that reached it are a subset of those that reached the one before."""

    key: str
    label: str
    count: int
    explanation: str


@dataclass(frozen=True)
class Funnel:
    """The funnel's stages, top to bottom, and the repositories that went past a stage without the one before it."""

    stages: list[FunnelStage]
    no_change: int = 0
    prs_without_approval: int = 0
    merged_without_review: int = 0
    reviews_recorded: bool = False

    def count(self, key: str) -> int:
        return next(stage.count for stage in self.stages if stage.key == key)


# Each stage's condition is and-ed with every condition above it, so no stage can count more than the one before.
FUNNEL_STAGES = (
    ("targeted", "targeted", "Repositories in this migration."),
    ("ran", "agent ran", "Of those, repositories with at least one migration attempt by the agent."),
    (
        "verified",
        "verifiers pass",
        "Of those, repositories with an attempt whose build and test verifiers all passed"
        " (attempts that needed no change are left out).",
    ),
    (
        "approved",
        "judge approves",
        "Of those, repositories with an attempt that passed its verifiers and was not rejected by the judge.",
    ),
    ("pr", "PR opened", "Of those, repositories with a pull request for this migration."),
    ("reviewed", "internally approved", "Of those, repositories whose pull request a reviewer approved in fleetui."),
    ("merged", "merged", "Of those, repositories whose pull request is merged."),
)


def migration_funnel(*, migration: Migration) -> Funnel:
    """Repositories reaching each stage, each stage a subset of the one before (2 queries)."""
    attempts = Attempt.objects.filter(
        migration=migration, phase=Phase.MIGRATION, repository_id=OuterRef("repository_id")
    )
    prs = PullRequest.objects.filter(migration=migration, repository_id=OuterRef("repository_id"))
    reviews = ReviewDecision.objects.filter(migration=migration, decision=ReviewDecision.Decision.APPROVE)
    reached = {
        "ran": Exists(attempts),
        "verified": Exists(attempts.filter(outcome__in=(Outcome.SUCCEEDED, Outcome.JUDGE_REJECTED))),
        "approved": Exists(attempts.filter(outcome=Outcome.SUCCEEDED)),
        "pr": Exists(prs),
        "reviewed": Exists(reviews.filter(pull_request__repository_id=OuterRef("repository_id"))),
        "merged": Exists(prs.filter(state=PullRequest.State.MERGED)),
    }
    targets = Target.objects.filter(migration=migration).annotate(**{f"reached_{k}": v for k, v in reached.items()})
    counts, condition = {"targeted": Count("id")}, Q()
    for key in reached:
        condition &= Q(**{f"reached_{key}": True})
        counts[key] = Count("id", filter=condition)
    found = targets.aggregate(
        **counts,
        no_change=Count("id", filter=Q(reached_ran=True, reached_verified=False, state=RepositoryState.NO_CHANGE)),
        prs_without_approval=Count("id", filter=Q(reached_pr=True, reached_approved=False)),
        merged_without_review=Count("id", filter=Q(reached_approved=True, reached_merged=True, reached_reviewed=False)),
    )
    return Funnel(
        stages=[FunnelStage(key, label, found[key], why) for key, label, why in FUNNEL_STAGES],
        no_change=found["no_change"],
        prs_without_approval=found["prs_without_approval"],
        merged_without_review=found["merged_without_review"],
        reviews_recorded=ReviewDecision.objects.filter(migration=migration).exists(),
    )


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


UNKNOWN_BUILD_SYSTEM = "unknown"


def verifier_pass_rates(*, migration: Migration) -> list[tuple[str, int, int]]:
    """(build system, passed calls, calls) for the migration's attempts, most calls first; a call without a build
    system name counts under "unknown"."""
    rows = (
        VerifierResult.objects.filter(attempt__migration=migration, attempt__phase=Phase.MIGRATION)
        .values("kind")
        .annotate(total=Count("id"), passed=Count("id", filter=Q(passed=True)))
        .order_by()
    )
    merged: dict[str, list[int]] = {}
    for row in rows:
        kind = (row["kind"] or "").strip() or UNKNOWN_BUILD_SYSTEM
        counts = merged.setdefault(kind, [0, 0])
        counts[0] += row["passed"]
        counts[1] += row["total"]
    ordered = sorted(merged.items(), key=lambda item: (-item[1][1], item[0]))
    return [(kind, passed, total) for kind, (passed, total) in ordered if total]


def attempts_per_repository(*, migration: Migration) -> dict[int, int]:
    """Number of repositories per attempt count (repositories with no attempt left out)."""
    rows = (
        Target.objects.filter(migration=migration, attempts_count__gt=0)
        .values("attempts_count")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["attempts_count"]: row["n"] for row in rows}


CLUSTER_BARS = 25


def cluster_chart_bars(*, migration: Migration, limit: int = CLUSTER_BARS) -> list[ClusterBar]:
    """The migration's largest clusters, largest first: one bar per cluster, under its own title."""
    labels = dict(FailureCluster.Status.choices)
    rows = (
        FailureCluster.objects.filter(migration=migration, size__gt=0)
        .order_by("-size", "id")
        .only("id", "title", "example_snippet", "size", "status")[:limit]
    )
    return [
        ClusterBar(
            key=cluster.pk,
            title=cluster_chart_title(cluster.title, cluster.example_snippet),
            size=cluster.size,
            status=cluster.status,
            status_label=labels.get(cluster.status, cluster.status),
            url=reverse("cluster-detail", args=[cluster.pk]),
        )
        for cluster in rows
    ]


def cluster_chart_title(title: str, example: str) -> str:
    """A cluster's title; an untitled one is named by the first line of its example failure."""
    title = " ".join(title.split())
    if title:
        return title
    first = next((line.strip() for line in example.splitlines() if line.strip()), "")
    return f"untitled cluster: {first}" if first else "untitled cluster"


def cluster_count(*, migration: Migration) -> int:
    """How many of the migration's clusters have failures in them."""
    return FailureCluster.objects.filter(migration=migration, size__gt=0).count()


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
