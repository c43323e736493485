"""Read-only queries behind the overview and the migration dashboard's charts, in a bounded number of queries."""

from dataclasses import dataclass, field

from django.db.models import Case, CharField, Count, F, Max, Min, Q, Value, When
from django.db.models.functions import TruncDate
from django.urls import reverse

from fleetui.common.charts import ClusterBar
from runs.fleet.models import (
    FAILED_OUTCOMES,
    Attempt,
    Layer,
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
# A pass that verified nothing is still a pass here: it is not failing, it waits for a careful review.
PASSING_STATES = (RepositoryState.SUCCEEDED, RepositoryState.UNVERIFIED, RepositoryState.NO_CHANGE)
# A succeeded attempt whose verifier verified nothing: its repository is unverified, never a success.
UNVERIFIABLE_PASS = Q(outcome=Outcome.SUCCEEDED, layer=Layer.UNVERIFIABLE)
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


def failure_origins_by_migration(
    *, migration: Migration | None = None, migration_ids: list[int] | None = None
) -> dict[int, FailureOrigins]:
    """migration id -> its agent-introduced and pre-existing failures (one query); migrations without either are
    left out."""
    targets = Target.objects.all() if migration is None else Target.objects.filter(migration=migration)
    if migration_ids is not None:
        targets = targets.filter(migration_id__in=migration_ids)
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
    """Every migration with repos, attempts, failure origins and counts by state (kept: one query)."""
    from runs.dashboards.counts import migration_counts_many, migrations_with_counts

    migrations = list(migrations_with_counts())
    counted = migration_counts_many(migrations=migrations)
    return [counted[m.pk].summary for m in migrations]


def migration_summary_get(*, migration: Migration) -> MigrationSummary:
    """One migration's counts (kept: 1 query)."""
    from runs.dashboards.counts import migration_counts_many

    return migration_counts_many(migrations=[migration])[migration.pk].summary


def migration_summaries(*, migrations: list[Migration]) -> dict[int, MigrationSummary]:
    """The migrations' counts counted now: repos, attempts, failure origins and counts by state (3 queries)."""
    summaries = {m.pk: MigrationSummary(migration=m) for m in migrations}
    ids = list(summaries)
    for (migration_id, state), n in state_counts(Target.objects.filter(migration_id__in=ids)).items():
        summary = summaries[migration_id]
        summary.by_state[state] = n
        summary.repos += n
    for migration_id, origins in failure_origins_by_migration(migration_ids=ids).items():
        summaries[migration_id].origins = origins
    for row in Attempt.objects.filter(migration_id__in=ids).values("migration_id").annotate(n=Count("id")).order_by():
        summaries[row["migration_id"]].attempts = row["n"]
    return summaries


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
    unverified: int = 0
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
        " (attempts that needed no change, and passes that verified nothing, are left out).",
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
    """Repositories reaching each stage, each stage a subset of the one before (5 queries)."""
    # Each stage's repositories are read once, grouped per repository, and intersected here: an EXISTS per target
    # and stage made PostgreSQL look up attempts and pull requests 60,000 times for 10,000 targets.
    # A pass that verified nothing reaches no stage past "agent ran": it is not a verified success.
    best = Max(
        Case(
            When(UNVERIFIABLE_PASS, then=Value(0)),
            When(outcome=Outcome.SUCCEEDED, then=Value(2)),
            When(outcome=Outcome.JUDGE_REJECTED, then=Value(1)),
            default=Value(0),
        )
    )
    attempts = Attempt.objects.filter(migration=migration, phase=Phase.MIGRATION).values("repository_id")
    ran, verified, approved = set(), set(), set()
    for repository_id, reached in attempts.annotate(best=best).order_by().values_list("repository_id", "best"):
        ran.add(repository_id)
        if reached >= 1:
            verified.add(repository_id)
        if reached == 2:
            approved.add(repository_id)
    merged_state = Max(Case(When(state=PullRequest.State.MERGED, then=Value(1)), default=Value(0)))
    prs = PullRequest.objects.filter(migration=migration).values("repository_id").annotate(merged=merged_state)
    pr, merged = set(), set()
    for repository_id, is_merged in prs.order_by().values_list("repository_id", "merged"):
        pr.add(repository_id)
        if is_merged:
            merged.add(repository_id)
    decisions = ReviewDecision.objects.filter(migration=migration)
    approvals = decisions.filter(decision=ReviewDecision.Decision.APPROVE).order_by()
    reviewed = set(approvals.values_list("pull_request__repository_id", flat=True))
    targets = dict(Target.objects.filter(migration=migration).order_by().values_list("repository_id", "state"))
    sets = {"ran": ran, "verified": verified, "approved": approved, "pr": pr, "reviewed": reviewed, "merged": merged}
    counts, reached_all = {"targeted": len(targets)}, set(targets)
    for key, repositories in sets.items():
        reached_all &= repositories
        counts[key] = len(reached_all)
    no_change = {r for r in ran - verified if targets.get(r) == RepositoryState.NO_CHANGE}
    unverified = {r for r in ran - verified if targets.get(r) == RepositoryState.UNVERIFIED}
    return Funnel(
        stages=[FunnelStage(key, label, counts[key], why) for key, label, why in FUNNEL_STAGES],
        no_change=len(no_change),
        unverified=len(unverified),
        prs_without_approval=len((pr - approved - unverified) & set(targets)),
        merged_without_review=len((approved & merged - reviewed) & set(targets)),
        reviews_recorded=decisions.exists(),
    )


def migration_burndown_events(*, migration: Migration):
    """(repository id, end day, state) of the migration's ended attempts, in end-time order (one query): the state
    an attempt leaves its repository in, its outcome, or unverified for a pass that verified nothing."""
    # Days rather than times: the burndown is per day, and dates are cheaper to read than aware datetimes.
    state = Case(
        When(UNVERIFIABLE_PASS, then=Value(RepositoryState.UNVERIFIED.value)),
        default=F("outcome"),
        output_field=CharField(),
    )
    return (
        Attempt.objects.filter(migration=migration, phase=Phase.MIGRATION, ended_at__isnull=False)
        .annotate(day=TruncDate("ended_at"), repository_state=state)
        .order_by("ended_at", "id")
        .values_list("repository_id", "day", "repository_state")
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


def failures_per_day(*, since=None, migration_ids: list[int] | None = None) -> dict[int, dict]:
    """Failed migration attempts per migration per day, since a time and of some migrations when given (one
    query; the overview reads the kept counts, see runs/dashboards/counts.py)."""
    attempts = Attempt.objects.filter(phase=Phase.MIGRATION, outcome__in=FAILED_OUTCOMES)
    if since is not None:
        attempts = attempts.filter(ended_at__gte=since)
    if migration_ids is not None:
        attempts = attempts.filter(migration_id__in=migration_ids)
    rows = (
        attempts.filter(ended_at__isnull=False)
        .annotate(day=TruncDate("ended_at"))
        .values("migration_id", "day")
        .annotate(n=Count("id"))
        .order_by()
    )
    found: dict[int, dict] = {}
    for row in rows:
        found.setdefault(row["migration_id"], {})[row["day"]] = row["n"]
    return found
