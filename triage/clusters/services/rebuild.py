"""Full rebuild of a migration's clusters that keeps the identity of clusters whose members persist.

Old and new clusters are matched by member overlap (Jaccard over repository, kind and phase, at least
MATCH_JACCARD), greedily by overlap size, one to one. A matched cluster keeps its id, status, notes,
assignee and a locked title; a resolved one that gained members becomes regressed. Members a person
placed (sticky: merged or split out) stay where they were put. An old cluster left without members is
kept, empty, when a person gave it a status, notes, an assignee or a title (so the decision is not lost
if the cause comes back); otherwise it is deleted.
"""

from collections import Counter, defaultdict

from django.db import transaction
from django.utils import timezone

from runs.fleet.models import Migration
from triage.clusters.models import ClusterMember, FailureCluster
from triage.clusters.services.common import (
    ALGORITHM_FIELDS,
    BULK_BATCH,
    Status,
    apply_algorithm_cluster,
    cluster_member_new,
    clusters_refresh_counts,
    initial_status,
)
from triage.clusters.services.failures import Failure, failures_collect, ident_of
from triage.engine.clustering import cluster_failures

MATCH_JACCARD = 0.5


def _match(new_sets: list[set], old_sets: dict[int, set]) -> dict[int, int]:
    """new cluster index -> old cluster id, greedy by overlap size, one to one."""
    owner: dict = {}
    for old_id, members in old_sets.items():
        for m in members:
            owner[m] = old_id
    pairs = []
    for idx, members in enumerate(new_sets):
        overlaps = Counter(owner[m] for m in members if m in owner)
        for old_id, inter in overlaps.items():
            jaccard = inter / len(members | old_sets[old_id])
            if jaccard >= MATCH_JACCARD:
                pairs.append((-inter, idx, old_id))
    pairs.sort()
    matched: dict[int, int] = {}
    used: set[int] = set()
    for _, idx, old_id in pairs:
        if idx not in matched and old_id not in used:
            matched[idx] = old_id
            used.add(old_id)
    return matched


def _keeps_decision(cluster: FailureCluster) -> bool:
    return bool(
        cluster.notes
        or cluster.assignee_id
        or cluster.title_locked
        or cluster.status not in (Status.NEW, Status.PRE_EXISTING)
    )


def clusters_rebuild(*, migration: Migration, threshold: float) -> dict[str, int]:
    """Recluster every current failure of the migration; returns counts for the run record."""
    failures, _ = failures_collect(migration=migration)
    by_ident = {f.ident: f for f in failures}
    found = cluster_failures([f.as_text() for f in failures], threshold=threshold)

    with transaction.atomic():
        old_clusters = {c.pk: c for c in FailureCluster.objects.select_for_update().filter(migration=migration)}
        old_members = list(
            ClusterMember.objects.filter(migration=migration).values(
                "id",
                "cluster_id",
                "attempt_id",
                "kind",
                "repository_id",
                "sticky",
                "joined_at",
                "why",
                "score",
                "pre_existing",
                "attempt__phase",
            )
        )
        old_sets: dict[int, set] = defaultdict(set)
        old_idents: dict[int, set[str]] = defaultdict(set)
        joined: dict[tuple[str, int], object] = {}
        unchanged: dict[tuple, int] = {}
        sticky: dict[str, int] = {}
        for m in old_members:
            ident = ident_of(m["attempt_id"], m["kind"])
            old_sets[m["cluster_id"]].add((m["repository_id"], m["kind"], m["attempt__phase"] == "baseline"))
            old_idents[m["cluster_id"]].add(ident)
            joined[(ident, m["cluster_id"])] = m["joined_at"]
            unchanged[(ident, m["cluster_id"], m["why"], m["score"], m["pre_existing"], m["sticky"])] = m["id"]
            if m["sticky"] and ident in by_ident:
                sticky[ident] = m["cluster_id"]

        new_sets = [{by_ident[m.id].overlap_id for m in c.members} for c in found]
        matched = _match(new_sets, {k: v for k, v in old_sets.items() if k in old_clusters})

        now = timezone.now()
        placed: dict[int, list[tuple[Failure, str, float]]] = defaultdict(list)
        created = 0
        to_update: list[FailureCluster] = []
        before: dict[int, list] = {}
        for idx, cluster in enumerate(found):
            free = [(by_ident[m.id], m.why, m.score) for m in cluster.members if m.id not in sticky]
            if idx in matched:
                row = old_clusters[matched[idx]]
                to_update.append(row)
                before[row.pk] = [getattr(row, name) for name in ALGORITHM_FIELDS]
            elif not free:
                continue  # every member was placed by a person elsewhere
            else:
                row = FailureCluster(migration=migration, status=initial_status([f for f, _, _ in free]))
                row.first_seen_at = now
                created += 1
            apply_algorithm_cluster(row, cluster, by_ident)
            if row.pk is None:
                row.save()
            placed[row.pk].extend(free)
        for ident, cluster_id in sticky.items():
            placed[cluster_id].append((by_ident[ident], ClusterMember.Why.MANUAL, 1.0))

        for row in to_update:
            gained = {f.ident for f, _, _ in placed[row.pk]} - old_idents[row.pk]
            if row.status == Status.RESOLVED and gained:
                row.status = Status.REGRESSED
        changed = [row for row in to_update if [getattr(row, name) for name in ALGORITHM_FIELDS] != before[row.pk]]
        FailureCluster.objects.bulk_update(changed, ALGORITHM_FIELDS, batch_size=BULK_BATCH)

        # Rows that come out the same stay as they are: a rebuild of a stable fleet writes little.
        keep: set[int] = set()
        fresh: list[ClusterMember] = []
        for cluster_id, members in placed.items():
            for f, why, score in members:
                is_sticky = f.ident in sticky
                same = unchanged.get((f.ident, cluster_id, why, score, f.pre_existing, is_sticky))
                if same is not None:
                    keep.add(same)
                    continue
                fresh.append(
                    cluster_member_new(
                        cluster_id=cluster_id,
                        migration=migration,
                        failure=f,
                        why=why,
                        score=score,
                        sticky=is_sticky,
                        joined_at=joined.get((f.ident, cluster_id), now),
                    )
                )
        gone = [m["id"] for m in old_members if m["id"] not in keep]
        for start in range(0, len(gone), 2000):
            ClusterMember.objects.filter(pk__in=gone[start : start + 2000]).delete()
        ClusterMember.objects.bulk_create(fresh, batch_size=1000)
        emptied = [c for pk, c in old_clusters.items() if pk not in placed]
        FailureCluster.objects.filter(pk__in=[c.pk for c in emptied if not _keeps_decision(c)]).delete()
        kept = [c.pk for c in emptied if _keeps_decision(c)]
        clusters_refresh_counts(cluster_ids=list(placed) + kept)
    return {"failures": len(failures), "clusters": len(placed), "new_clusters": created, "assigned": len(failures)}
