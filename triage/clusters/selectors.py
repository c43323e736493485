"""Read-only queries on failure clusters for pages, the API, reruns and nudges; bounded query counts."""

from datetime import date, datetime

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from runs.fleet.models import Migration, PullRequest
from triage.clusters.counts import cluster_counts_many
from triage.clusters.models import ClusterCounts, ClusterJoins, ClusterMember, FailureCluster

# Statuses in their declared order (new first), so sorting by status groups them as the tabs do.
STATUS_RANK = Case(
    *[When(status=value, then=Value(rank)) for rank, value in enumerate(FailureCluster.Status.values)],
    default=Value(len(FailureCluster.Status.values)),
    output_field=IntegerField(),
)


def _both_ways(**columns) -> dict[str, tuple]:
    """{"size": ..., "-size": ...} for each column; the tie-breakers keep pages stable."""
    orders = {}
    for key, (expression, *tie) in columns.items():
        asc = F(expression).asc(nulls_last=True) if isinstance(expression, str) else expression.asc()
        desc = F(expression).desc(nulls_last=True) if isinstance(expression, str) else expression.desc()
        orders[key] = (asc, *tie)
        orders[f"-{key}"] = (desc, *tie)
    return orders


ORDERS = _both_ways(
    size=("size", "id"),
    agent_failures=("agent_failures", "-size", "id"),
    repos=("repos", "-size", "id"),
    last_seen_at=("last_seen_at", "-size", "id"),
    first_seen_at=("first_seen_at", "-size", "id"),
    title=("title", "id"),
    status=(STATUS_RANK, "-size", "id"),
    assignee=("assignee__username", "-size", "id"),
)
DEFAULT_ORDER = "-size"


def cluster_list(
    *,
    migration: Migration,
    status: str | list[str] | None = None,
    kind: str | None = None,
    search: str | None = None,
    repo: str | None = None,
    team: str | None = None,
    prompt_rev: int | None = None,
    new_since: datetime | None = None,
    order: str = DEFAULT_ORDER,
) -> QuerySet[FailureCluster]:
    """A migration's clusters, filtered; search is failure text, repo text in a member's repository name, team a
    team slug ("-" for no team), prompt_rev a revision number, order a key of ORDERS."""
    qs = FailureCluster.objects.filter(migration=migration).select_related("assignee")
    if status:
        qs = qs.filter(status__in=[status] if isinstance(status, str) else list(status))
    if kind:
        qs = qs.filter(kind=kind)
    members = ClusterMember.objects.filter(cluster=OuterRef("pk"))
    if search and search.strip():
        term = search.strip()
        # The members' own failure text too: a cause named by few members is found though the title names another.
        said = members.filter(Q(deciding_line__icontains=term) | Q(snippet__icontains=term))
        qs = qs.filter(
            Q(title__icontains=term) | Q(example_snippet__icontains=term) | Q(signature__startswith=term) | Exists(said)
        )
    if repo and repo.strip():
        qs = qs.filter(Exists(members.filter(repository__full_name__icontains=repo.strip())))
    if team:
        in_team = (
            members.filter(repository__team__isnull=True)
            if team == "-"
            else members.filter(repository__team__slug=team)
        )
        qs = qs.filter(Exists(in_team))
    if prompt_rev is not None:
        qs = qs.filter(Exists(members.filter(attempt__prompt_revision__number=prompt_rev)))
    if new_since is not None:
        qs = qs.filter(first_seen_at__gte=new_since)
    return qs.order_by(*ORDERS.get(order, ORDERS[DEFAULT_ORDER]))


def cluster_daily_counts(
    *, cluster_ids: list[int], since: datetime, kept: dict[int, ClusterCounts] | None = None
) -> dict[int, dict[date, int]]:
    """cluster id -> {day: members whose failing attempt ended that day} from the day of `since` (the start of a
    day), for a page; from the kept counts (one query, none when `kept` is given)."""
    kept = cluster_counts_many(cluster_ids=cluster_ids) if kept is None else kept
    first = timezone.localtime(since).date()
    found: dict[int, dict[date, int]] = {}
    for cluster_id in cluster_ids:
        for day, n in kept[cluster_id].days.items():
            if (when := date.fromisoformat(day)) >= first:
                found.setdefault(cluster_id, {})[when] = n
    return found


def cluster_recent_repositories(
    *, cluster_ids: list[int], per_cluster: int = 2, kept: dict[int, ClusterCounts] | None = None
) -> dict[int, list[str]]:
    """cluster id -> owner/name of the repositories that joined it last, newest first (at most two; kept counts,
    one query, none when `kept` is given)."""
    kept = cluster_counts_many(cluster_ids=cluster_ids) if kept is None else kept
    return {pk: list(kept[pk].recent[:per_cluster]) for pk in cluster_ids if kept[pk].recent}


def attempt_cluster_map(*, attempt_ids: list[int]) -> dict[int, ClusterMember]:
    """attempt id -> its cluster membership, with snippet, deciding line and the cluster's title, kind and size (the
    verifier cluster when it is in two; one query)."""
    rows = (
        ClusterMember.objects.filter(attempt_id__in=list(attempt_ids))
        .select_related("cluster")
        .only(
            "attempt_id",
            "kind",
            "snippet",
            "deciding_line",
            "cluster__id",
            "cluster__title",
            "cluster__kind",
            "cluster__size",
        )
        .order_by("kind")  # "judge" before "verify": the later verify row wins
    )
    return {member.attempt_id: member for member in rows}


CLOSED_STATUSES = (FailureCluster.Status.RESOLVED, FailureCluster.Status.WONT_FIX)


def open_cluster_counts() -> dict[int, int]:
    """migration id -> clusters with failures that are neither resolved nor won't fix (one query)."""
    rows = (
        FailureCluster.objects.filter(size__gt=0)
        .exclude(status__in=CLOSED_STATUSES)
        .values("migration_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["migration_id"]: row["n"] for row in rows}


def cluster_choices(*, migration: Migration, selected: int | None = None, limit: int = 300) -> list[FailureCluster]:
    """The migration's clusters for a picker, largest first; the selected one is always among them (one query)."""
    first = Case(When(pk=selected or 0, then=Value(0)), default=Value(1), output_field=IntegerField())
    return list(
        FailureCluster.objects.filter(migration=migration)
        .filter(Q(size__gt=0) | Q(pk=selected or 0))
        .order_by(first, "kind", "-size", "id")
        .only("id", "title", "kind", "size")[:limit]
    )


def cluster_detail(*, cluster_id: int) -> FailureCluster | None:
    """One cluster with its migration and assignee, or None."""
    return FailureCluster.objects.select_related("migration", "assignee").filter(pk=cluster_id).first()


def cluster_members(*, cluster: FailureCluster, team: str | None = None) -> QuerySet[ClusterMember]:
    """The cluster's members with repository, team, attempt and its pull requests; agent failures first."""
    qs = (
        ClusterMember.objects.filter(cluster=cluster)
        .select_related("repository__team", "attempt")
        # What the member table and API never show: the masked text, the trace outline and its problems.
        .defer("normalized", "attempt__span_tree", "attempt__problems")
        .prefetch_related(
            Prefetch("attempt__pull_requests", queryset=PullRequest.objects.order_by("-updated_at", "-id"))
        )
        .order_by("pre_existing", "-score", "repository__full_name", "id")
    )
    if team == "-":
        qs = qs.filter(repository__team__isnull=True)
    elif team:
        qs = qs.filter(repository__team__slug=team)
    return qs


def cluster_repository_names(
    cluster_id: int, *, exclude: list[str] | None = None, include_pre_existing: bool = False
) -> list[str]:
    """Sorted owner/name of the cluster's repositories (agent failures only unless asked)."""
    qs = ClusterMember.objects.filter(cluster_id=cluster_id)
    if not include_pre_existing:
        qs = qs.filter(pre_existing=False)
    if exclude:
        qs = qs.exclude(repository__full_name__in=exclude)
    return list(qs.order_by("repository__full_name").values_list("repository__full_name", flat=True).distinct())


def attempt_clusters(*, attempt_ids: list[int]) -> dict[int, int]:
    """attempt id -> id of the cluster it is in (a verifier-failure cluster when it is in two)."""
    out: dict[int, int] = {}
    ids = list(attempt_ids)
    for start in range(0, len(ids), 5000):
        rows = ClusterMember.objects.filter(attempt_id__in=ids[start : start + 5000]).order_by("kind")
        # "judge" sorts before "verify": the later verify row wins.
        for attempt_id, cluster_id in rows.values_list("attempt_id", "cluster_id"):
            out[attempt_id] = cluster_id
    return out


def clusters_grown_since(
    *, since: datetime, limit: int = 10, migration: Migration | None = None
) -> list[FailureCluster]:
    """Clusters that gained the most members since a time, each with `grown` (members joined since; 2 queries).

    Read from the joins kept by the hour (`ClusterJoins`, counted with each cluster's counts): the hours that
    began since then count, so a day back is the last 23 to 24 hours; a time further back than JOINS_KEPT counts
    only that far.
    """
    joined = ClusterJoins.objects.filter(hour__gte=since)
    if migration is not None:
        joined = joined.filter(cluster__migration=migration)
    grown = dict(joined.values("cluster_id").annotate(n=Sum("members")).order_by().values_list("cluster_id", "n"))
    if not grown:
        return []
    # Ties on the last place are broken by size and id, so every cluster tied with it is read.
    last = sorted(grown.values(), reverse=True)[: max(limit, 1)][-1]
    clusters = list(
        FailureCluster.objects.select_related("migration").filter(pk__in=[c for c, n in grown.items() if n >= last])
    )
    for cluster in clusters:
        cluster.grown = grown[cluster.pk]
    return sorted(clusters, key=lambda c: (-c.grown, -c.size, c.pk))[:limit]
