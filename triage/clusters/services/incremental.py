"""Incremental assignment: failures not yet in a cluster join the nearest one, or start new clusters."""

from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from runs.fleet.models import Migration
from triage.clusters.models import ClusterMember, FailureCluster
from triage.clusters.services.common import (
    Status,
    apply_algorithm_cluster,
    cluster_member_new,
    clusters_refresh_counts,
    initial_status,
    titles_refresh,
)
from triage.clusters.services.failures import Failure, failures_collect, ident_of
from triage.engine.clustering import ClusterExemplars, assign_failures, cluster_failures


def clusters_assign_new(*, migration: Migration, threshold: float) -> dict[str, int]:
    """Place the migration's unclustered failures without moving existing members.

    Members whose attempt is no longer current (the repository was retried) leave their cluster.
    """
    rows = ClusterMember.objects.filter(migration=migration).values_list("id", "attempt_id", "kind")
    existing = {ident_of(attempt_id, kind): pk for pk, attempt_id, kind in rows}
    fresh, current = failures_collect(migration=migration, skip=set(existing))
    stale = [pk for ident, pk in existing.items() if ident not in current]
    touched: set[int] = set()
    now = timezone.now()
    created = 0
    created_ids: set[int] = set()
    with transaction.atomic():
        for start in range(0, len(stale), 2000):
            chunk = ClusterMember.objects.filter(pk__in=stale[start : start + 2000])
            touched.update(chunk.values_list("cluster_id", flat=True).distinct().order_by())
            chunk.delete()
        if fresh:
            stored = FailureCluster.objects.filter(migration=migration).values_list(
                "id", "signature", "exemplars", "kind", "cause_keys", "cause_tokens"
            )
            known = [
                ClusterExemplars(
                    str(pk), sig, list(ex or []), kind, tuple(causes or ()), None if tokens is None else tuple(tokens)
                )
                for pk, sig, ex, kind, causes, tokens in stored
            ]
            results = assign_failures([f.as_text() for f in fresh], known, threshold=threshold)
            members: list[ClusterMember] = []
            leftover: list[Failure] = []
            for f, (key, why, score) in zip(fresh, results, strict=True):
                if key is None:
                    leftover.append(f)
                else:
                    members.append(
                        cluster_member_new(
                            cluster_id=int(key), migration=migration, failure=f, why=why, score=score, joined_at=now
                        )
                    )
                    touched.add(int(key))
            by_ident = {f.ident: f for f in leftover}
            for found in cluster_failures([f.as_text() for f in leftover], threshold=threshold):
                group = [by_ident[m.id] for m in found.members]
                row = FailureCluster(migration=migration, status=initial_status(group), first_seen_at=now)
                apply_algorithm_cluster(row, found, by_ident)
                row.save()
                created += 1
                created_ids.add(row.pk)
                touched.add(row.pk)
                members.extend(
                    cluster_member_new(
                        cluster_id=row.pk,
                        migration=migration,
                        failure=by_ident[m.id],
                        why=m.why,
                        score=m.score,
                        joined_at=now,
                    )
                    for m in found.members
                )
            ClusterMember.objects.bulk_create(members, batch_size=1000)
            gained = defaultdict(int)
            for m in members:
                gained[m.cluster_id] += 1
            FailureCluster.objects.filter(pk__in=list(gained), status=Status.RESOLVED).update(
                status=Status.REGRESSED, updated_at=now
            )
        clusters_refresh_counts(cluster_ids=touched)
        titles_refresh(cluster_ids=touched - created_ids)
    return {"failures": len(fresh), "clusters": len(touched), "new_clusters": created, "assigned": len(fresh)}
