"""Read-only queries on failure clusters for pages, the API, reruns and nudges; bounded query counts."""

from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from runs.fleet.models import Migration, PullRequest
from triage.clusters.models import ClusterMember, FailureCluster

ORDERS = {
    "-size": ("-size", "id"),
    "size": ("size", "id"),
    "-agent_failures": ("-agent_failures", "-size", "id"),
    "-repos": ("-repos", "-size", "id"),
    "-last_seen_at": ("-last_seen_at", "-size", "id"),
    "-first_seen_at": ("-first_seen_at", "-size", "id"),
    "title": ("title", "id"),
    "status": ("status", "-size", "id"),
}


def cluster_list(
    *,
    migration: Migration,
    status: str | list[str] | None = None,
    kind: str | None = None,
    search: str | None = None,
    team: str | None = None,
    prompt_rev: int | None = None,
    new_since: datetime | None = None,
    order: str = "-size",
) -> QuerySet[FailureCluster]:
    """A migration's clusters, filtered; team is a team slug ("-" for no team), prompt_rev a revision number."""
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
    return qs.order_by(*ORDERS.get(order, ORDERS["-size"]))


def cluster_detail(*, cluster_id: int) -> FailureCluster | None:
    """One cluster with its migration and assignee, or None."""
    return FailureCluster.objects.select_related("migration", "assignee").filter(pk=cluster_id).first()


def cluster_members(*, cluster: FailureCluster, team: str | None = None) -> QuerySet[ClusterMember]:
    """The cluster's members with repository, team, attempt and its pull requests; agent failures first."""
    qs = (
        ClusterMember.objects.filter(cluster=cluster)
        .select_related("repository__team", "attempt__prompt_revision")
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
    """Clusters that gained the most members since a time, each with `grown` (members joined since)."""
    qs = FailureCluster.objects.select_related("migration")
    if migration is not None:
        qs = qs.filter(migration=migration)
    qs = qs.filter(members__joined_at__gte=since).annotate(grown=Count("members"))
    return list(qs.order_by("-grown", "-size", "id")[:limit])
