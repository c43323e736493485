"""Helpers shared by the clustering services: counts, representation and new cluster rows."""

from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db.models import Count, Max, Min, Q

from triage.clusters.counts import cluster_counts_refresh
from triage.clusters.models import ClusterMember, FailureCluster
from triage.clusters.services.failures import Failure
from triage.engine.causes import cause_of
from triage.engine.clustering import MAX_CAUSES, MAX_EXEMPLARS, Cluster
from triage.engine.titles import group_title

Status = FailureCluster.Status
COUNT_FIELDS = ["size", "repos", "pre_existing_failures", "agent_failures", "first_seen_at", "last_seen_at"]
ALGORITHM_FIELDS = [
    "key",
    "kind",
    "signature",
    "top_terms",
    "exemplars",
    "example_snippet",
    "title",
    "status",
    "cause_keys",
    "cause_tokens",
]
# bulk_update builds one CASE per field over the batch: small batches keep the statement cheap to build.
BULK_BATCH = 200


def clusters_refresh_counts(*, cluster_ids: Iterable[int]) -> None:
    """Recompute size, repos, agent/pre-existing counts and seen times from the members."""
    ids = sorted(set(cluster_ids))
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        stats = {
            row["cluster_id"]: row
            for row in ClusterMember.objects.filter(cluster_id__in=chunk)
            .values("cluster_id")
            .annotate(
                n=Count("id"),
                repos=Count("repository_id", distinct=True),
                pre=Count("id", filter=Q(pre_existing=True)),
                first=Min("attempt__ended_at"),
                last=Max("attempt__ended_at"),
            )
            .order_by()
        }
        changed = []
        for cluster in FailureCluster.objects.filter(pk__in=chunk):
            before = [getattr(cluster, name) for name in COUNT_FIELDS]
            row = stats.get(cluster.pk)
            cluster.size = row["n"] if row else 0
            cluster.repos = row["repos"] if row else 0
            cluster.pre_existing_failures = row["pre"] if row else 0
            cluster.agent_failures = cluster.size - cluster.pre_existing_failures
            if row:
                cluster.first_seen_at = min(filter(None, [cluster.first_seen_at, row["first"]]), default=None)
                cluster.last_seen_at = row["last"] or cluster.last_seen_at
            if [getattr(cluster, name) for name in COUNT_FIELDS] != before:
                changed.append(cluster)
        # Only rows whose counts moved are written: after a rebuild of a stable fleet that is few.
        FailureCluster.objects.bulk_update(changed, COUNT_FIELDS, batch_size=BULK_BATCH)
    # The pages' kept counts of the same clusters (cost, layers, days, why, recent members).
    cluster_counts_refresh(cluster_ids=ids)


def titles_refresh(*, cluster_ids: Iterable[int]) -> None:
    """Titles from what the members' deciding lines share now, for clusters whose title no person set.

    A cluster that gained members may no longer share the version or name its title showed.
    """
    ids = sorted(set(cluster_ids))
    lines: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(ids), 2000):
        rows = (
            ClusterMember.objects.filter(cluster_id__in=ids[start : start + 2000], cluster__title_locked=False)
            .exclude(deciding_line="")
            .values_list("cluster_id", "deciding_line")
            .annotate(n=Count("id"))
            .order_by()
        )
        for cluster_id, line, n in rows:
            lines[cluster_id].extend([cause_of(line).title] * n)
    changed = []
    for cluster in FailureCluster.objects.filter(pk__in=list(lines)).only("id", "title"):
        title = group_title([lines[cluster.pk]])[:300]
        if title and title != cluster.title:
            cluster.title = title
            changed.append(cluster)
    FailureCluster.objects.bulk_update(changed, ["title"], batch_size=BULK_BATCH)


def representation_from_members(cluster: FailureCluster) -> None:
    """Exemplars and signature from the member texts, most common first (after a merge or split)."""
    rows = list(
        cluster.members.values_list("normalized", "signature", "snippet", "deciding_line", "repository__full_name")
    )
    if not rows:
        return
    counts = Counter((n, s) for n, s, *_ in rows)
    ranked = sorted(counts, key=lambda k: (-counts[k], k[1]))
    cluster.signature = ranked[0][1]
    cluster.exemplars = [n for n, _ in ranked[:MAX_EXEMPLARS]]
    cluster.example_snippet = next((snip for n, s, snip, *_ in rows if s == cluster.signature), rows[0][2])
    causes = [cause_of(line or snippet, repo=repo) for _, _, snippet, line, repo in rows]
    cluster.cause_keys = sorted({c.key for c in causes if c.key})[:MAX_CAUSES]
    token_sets = {tuple(sorted(set(c.tokens))) for c in causes}
    # Members a person put together may be named by different tokens: then no tokens bar a newcomer.
    cluster.cause_tokens = list(token_sets.pop()) if len(token_sets) == 1 else None


def apply_algorithm_cluster(cluster: FailureCluster, found: Cluster, by_ident: dict[str, Failure]) -> None:
    """Copy what the algorithm computed onto a cluster row; a locked title stays."""
    cluster.key = found.key
    cluster.kind = found.kind
    cluster.signature = found.signature
    cluster.top_terms = list(found.top_terms)
    cluster.exemplars = list(found.exemplars)
    cluster.cause_keys = list(found.causes)
    cluster.cause_tokens = list(found.tokens)
    medoid = by_ident.get(found.medoid_id)
    cluster.example_snippet = medoid.snippet if medoid else ""
    if not cluster.title_locked:
        cluster.title = found.title[:300]


def initial_status(failures: list[Failure]) -> str:
    """A new cluster whose members all failed before the change is pre-existing, not the agent's doing."""
    return Status.PRE_EXISTING if failures and all(f.pre_existing for f in failures) else Status.NEW


def cluster_member_new(
    *, cluster_id: int, migration, failure: Failure, why: str, score: float, joined_at, sticky: bool = False
) -> ClusterMember:
    """An unsaved member row placing one failure in a cluster, with the reason and score that placed it."""
    return ClusterMember(
        cluster_id=cluster_id,
        migration=migration,
        kind=failure.kind,
        attempt_id=failure.attempt_id,
        verifier_result_id=failure.verifier_result_id,
        repository_id=failure.repository_id,
        why=why,
        score=score,
        pre_existing=failure.pre_existing,
        sticky=sticky,
        snippet=failure.snippet,
        normalized=failure.normalized,
        signature=failure.signature,
        deciding_line=failure.deciding_line,
        joined_at=joined_at,
    )
