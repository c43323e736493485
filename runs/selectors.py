"""Read-only queries for pages and the API; each returns in a bounded number of queries."""

from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber, TruncDate

from runs.models import (
    FAILED_OUTCOMES,
    Attempt,
    AuditEvent,
    ImportRun,
    ImportRunError,
    Migration,
    Outcome,
    Phase,
    PullRequest,
    RepositoryState,
    ReviewDecision,
    Target,
    Team,
    VerifierResult,
)


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


def _state_counts(targets: QuerySet) -> dict[tuple[int, str], int]:
    rows = targets.values("migration_id", "state").annotate(n=Count("id")).order_by()
    return {(row["migration_id"], row["state"]): row["n"] for row in rows}


def migration_summary_list() -> list[MigrationSummary]:
    """Every migration with repos, attempts, pre-existing failures and counts by state (3 queries)."""
    summaries = {m.pk: MigrationSummary(migration=m) for m in Migration.objects.all()}
    for (migration_id, state), n in _state_counts(Target.objects.all()).items():
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
    for (_, state), n in _state_counts(targets).items():
        summary.by_state[state] = n
        summary.repos += n
    summary.pre_existing = targets.filter(pre_existing_failure=True).count()
    summary.attempts = Attempt.objects.filter(migration=migration).count()
    return summary


def target_list(
    *, migration: Migration, state: str = "", team: str = "", cluster: int | None = None, pr_state: str = ""
) -> QuerySet[Target]:
    """A migration's repositories with their team and latest attempt, filtered by state, team slug, the cluster its
    latest attempt is in, and its pull requests' state ("none" for no pull request)."""
    targets = Target.objects.filter(migration=migration).select_related(
        "repository__team", "latest_attempt", "baseline_attempt"
    )
    if state:
        targets = targets.filter(state=state)
    if team == "-":
        targets = targets.filter(repository__team__isnull=True)
    elif team:
        targets = targets.filter(repository__team__slug=team)
    if cluster:
        targets = targets.filter(latest_attempt__cluster_memberships__cluster_id=cluster)
    if pr_state:
        prs = PullRequest.objects.filter(migration_id=OuterRef("migration_id"), repository_id=OuterRef("repository_id"))
        if pr_state == "none":
            targets = targets.filter(~Exists(prs))
        else:
            targets = targets.filter(Exists(prs.filter(state=pr_state)))
    return targets.order_by("repository__full_name")


def team_choices(*, migration: Migration) -> list[Team]:
    """Teams owning at least one repository of the migration."""
    return list(Team.objects.filter(repositories__targets__migration=migration).distinct().order_by("slug"))


def target_snippets(*, targets: list[Target]) -> dict[int, VerifierResult]:
    """The last failed verifier result per target (latest attempt, else baseline when pre-existing), one query."""
    attempt_ids = set()
    for target in targets:
        attempt_ids.update(filter(None, (target.latest_attempt_id, target.baseline_attempt_id)))
    if not attempt_ids:
        return {}
    last_failed: dict[int, VerifierResult] = {}
    failed = (
        VerifierResult.objects.filter(attempt_id__in=attempt_ids, passed=False)
        .only("id", "attempt_id", "position", "kind", "snippet")
        .order_by("attempt_id", "position")
    )
    for result in failed:
        last_failed[result.attempt_id] = result  # ordered by position: the last one wins
    snippets = {}
    for target in targets:
        result = last_failed.get(target.latest_attempt_id)
        if result is None and target.pre_existing_failure:
            result = last_failed.get(target.baseline_attempt_id)
        if result is not None:
            snippets[target.pk] = result
    return snippets


def pull_requests_by_repository(*, migration: Migration, repository_ids: list[int]) -> dict[int, PullRequest]:
    """The most recently updated pull request per repository in the migration, one query."""
    found: dict[int, PullRequest] = {}
    rows = PullRequest.objects.filter(migration=migration, repository_id__in=repository_ids).order_by(
        "repository_id", F("updated_at").desc(nulls_last=True), "-id"
    )
    for pr in rows:
        found.setdefault(pr.repository_id, pr)
    return found


def attempt_list(*, migration: Migration, repo: str = "") -> QuerySet[Attempt]:
    """A migration's attempts with repository, prompt revision, judge and verifier results prefetched."""
    attempts = Attempt.objects.filter(migration=migration).select_related("repository", "prompt_revision", "judge")
    if repo:
        attempts = attempts.filter(repository__full_name=repo)
    results = VerifierResult.objects.only("id", "attempt_id", "position", "kind", "passed", "snippet")
    return attempts.prefetch_related(Prefetch("verifier_results", queryset=results.order_by("position"))).order_by(
        "repository__full_name", "phase", "number", "id"
    )


def attempt_get(*, trace_id: str) -> Attempt | None:
    """One attempt with everything its page shows."""
    return (
        Attempt.objects.select_related("migration", "repository__team", "prompt_revision", "judge")
        .prefetch_related(Prefetch("verifier_results", queryset=VerifierResult.objects.order_by("position")))
        .filter(trace_id=trace_id)
        .first()
    )


def attempt_siblings(*, attempt: Attempt) -> list[Attempt]:
    """The other attempts of the same repository in the same migration."""
    return list(
        Attempt.objects.filter(migration_id=attempt.migration_id, repository_id=attempt.repository_id)
        .exclude(pk=attempt.pk)
        .only("id", "trace_id", "number", "phase", "outcome", "started_at", "ended_at")
        .order_by("phase", "number")
    )


def attempt_judge(attempt: Attempt):
    """The attempt's judge verdict, or None when the judge did not run."""
    try:
        return attempt.judge
    except Attempt.judge.RelatedObjectDoesNotExist:
        return None


def import_run_list() -> QuerySet[ImportRun]:
    """Import runs, newest first."""
    return ImportRun.objects.select_related("requested_by").order_by("-created_at", "-id")


def import_run_errors_preview(*, run_ids: list[int], per_run: int = 5) -> dict[int, list[ImportRunError]]:
    """The first few error rows of each run, in one query."""
    if not run_ids:
        return {}
    numbered = ImportRunError.objects.filter(run_id__in=run_ids).annotate(
        row=Window(RowNumber(), partition_by=[F("run_id")], order_by=F("id").asc())
    )
    preview: dict[int, list[ImportRunError]] = {run_id: [] for run_id in run_ids}
    for error in numbered.filter(row__lte=per_run).order_by("run_id", "id"):
        preview[error.run_id].append(error)
    return preview


def import_run_get(*, run_id: int) -> ImportRun | None:
    return ImportRun.objects.select_related("requested_by").filter(pk=run_id).first()


def import_run_error_list(*, run: ImportRun) -> QuerySet[ImportRunError]:
    return ImportRunError.objects.filter(run=run).order_by("id")


def state_is_valid(state: str) -> bool:
    return state in RepositoryState.values


def target_state_counts(
    *, migration: Migration, team: str = "", cluster: int | None = None, pr_state: str = ""
) -> dict[str, int]:
    """Repository counts by state for the migration, within the other filters."""
    counts = _state_counts(target_list(migration=migration, team=team, cluster=cluster, pr_state=pr_state))
    return {state: n for (_, state), n in counts.items()}


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


def audit_event_list(*, migration: Migration | None = None, actor: str = "", verb: str = "") -> QuerySet[AuditEvent]:
    """The audit trail, newest first, optionally for one migration, one actor or one kind of action."""
    events = AuditEvent.objects.select_related("migration").order_by("-created_at", "-id")
    if migration is not None:
        events = events.filter(migration=migration)
    if actor:
        events = events.filter(actor_name=actor)
    if verb:
        events = events.filter(verb__startswith=verb)
    return events
