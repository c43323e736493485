"""Read-only queries on the fleet's records for pages and the API; each returns in a bounded number of queries."""

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet

from runs.fleet.models import Attempt, AuditEvent, Migration, PullRequest, RepositoryState, Target, Team, VerifierResult


def state_counts(targets: QuerySet) -> dict[tuple[int, str], int]:
    rows = targets.values("migration_id", "state").annotate(n=Count("id")).order_by()
    return {(row["migration_id"], row["state"]): row["n"] for row in rows}


# Sort keys of the repository table and API, each both ways ("-key" descending); ties by repository name.
TARGET_ORDERS = {
    "repo": ("repository__full_name",),
    "team": ("repository__team__slug", "repository__full_name"),
    "state": ("state", "repository__full_name"),
    "attempts": ("attempts_count", "repository__full_name"),
    "last_activity": ("last_activity_at", "repository__full_name"),
}
TARGET_DEFAULT_ORDER = "repo"


def target_order_is_valid(order: str) -> bool:
    return order.removeprefix("-") in TARGET_ORDERS


def target_list(
    *,
    migration: Migration,
    state: str = "",
    layer: str = "",
    team: str = "",
    cluster: int | None = None,
    pr_state: str = "",
    repo: str = "",
    text: str = "",
    order: str = TARGET_DEFAULT_ORDER,
) -> QuerySet[Target]:
    """A migration's repositories with their team and latest attempt, filtered by state, the layer of its latest
    attempt, team slug, the cluster its latest attempt is in, its pull requests' state ("none" for no pull request),
    text in its name (`repo`) and text in its latest failure (`text`: a failed verifier's snippet, the judge's
    rationale, or the baseline's failure); sorted by a TARGET_ORDERS key."""
    targets = Target.objects.filter(migration=migration).select_related(
        "repository__team", "latest_attempt", "baseline_attempt"
    )
    if state:
        targets = targets.filter(state=state)
    if layer:
        targets = targets.filter(latest_attempt__layer=layer)
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
    if repo.strip():
        targets = targets.filter(repository__full_name__icontains=repo.strip())
    if text.strip():
        term = text.strip()
        failed = VerifierResult.objects.filter(passed=False, snippet__icontains=term)
        targets = targets.filter(
            Exists(failed.filter(attempt_id=OuterRef("latest_attempt_id")))
            | Exists(failed.filter(attempt_id=OuterRef("baseline_attempt_id")))
            | Q(latest_attempt__judge__rationale__icontains=term)
        )
    key = order.removeprefix("-") if target_order_is_valid(order) else TARGET_DEFAULT_ORDER
    fields = TARGET_ORDERS[key]
    first = F(fields[0]).desc(nulls_last=True) if order.startswith("-") else F(fields[0]).asc(nulls_last=True)
    return targets.order_by(first, *fields[1:], "id")


def team_choices(*, migration: Migration) -> list[Team]:
    """Teams owning at least one repository of the migration.

    A semi-join: each team stops at its first repository in the migration, instead of joining every target and
    removing the duplicates (23 ms a page at 10,000 repositories; 1.4 ms so)."""
    in_migration = Target.objects.filter(migration=migration, repository__team_id=OuterRef("pk"))
    return list(Team.objects.filter(Exists(in_migration)).order_by("slug"))


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


def state_is_valid(state: str) -> bool:
    return state in RepositoryState.values


def target_state_counts(
    *, migration: Migration, team: str = "", cluster: int | None = None, pr_state: str = ""
) -> dict[str, int]:
    """Repository counts by state for the migration, within the other filters."""
    counts = state_counts(target_list(migration=migration, team=team, cluster=cluster, pr_state=pr_state))
    return {state: n for (_, state), n in counts.items()}


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
