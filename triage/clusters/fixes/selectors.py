"""Which attempts fixed a cluster's cause: later passing attempts of its repositories, then of the same cause elsewhere."""

from __future__ import annotations

from dataclasses import dataclass

from runs.fleet.models import Attempt, Outcome, Phase
from triage.clusters.models import ClusterMember, FailureCluster

MAX_FAILURES = 2_000
MAX_SAME_CAUSE_CLUSTERS = 50
MAX_SCANNED_CLUSTERS = 5_000


@dataclass(frozen=True)
class FixAttempt:
    """A passing attempt that came after a failure of the cause on the same repository and migration."""

    attempt: Attempt
    failed_trace_id: str
    same_cluster: bool


def cluster_fix_attempts(*, cluster: FailureCluster, limit: int) -> list[FixAttempt]:
    """Up to `limit` fixing attempts: the cluster's own repositories first, then clusters with the same cause."""
    failures = list(
        ClusterMember.objects.filter(cluster=cluster)
        .order_by("-joined_at", "-id")
        .values_list("migration_id", "repository_id", "attempt__number", "attempt__trace_id")[:MAX_FAILURES]
    )
    found = _later_passes(failures, same_cluster=True, limit=limit)
    if len(found) < limit:
        others = same_cause_cluster_ids(cluster=cluster)
        if others:
            seen = {(f.attempt.migration_id, f.attempt.repository_id) for f in found}
            more = list(
                ClusterMember.objects.filter(cluster_id__in=others)
                .order_by("-joined_at", "-id")
                .values_list("migration_id", "repository_id", "attempt__number", "attempt__trace_id")[:MAX_FAILURES]
            )
            more = [row for row in more if (row[0], row[1]) not in seen]
            found += _later_passes(more, same_cluster=False, limit=limit - len(found))
    return found


def same_cause_cluster_ids(*, cluster: FailureCluster) -> list[int]:
    """Other clusters (any migration) of the same kind sharing the signature or a cause key, largest first."""
    keys = {key for key in cluster.cause_keys or [] if isinstance(key, str) and key}
    if not keys and not cluster.signature:
        return []
    rows = (
        FailureCluster.objects.filter(kind=cluster.kind)
        .exclude(pk=cluster.pk)
        .order_by("-size", "id")
        .values_list("id", "signature", "cause_keys")[:MAX_SCANNED_CLUSTERS]
    )
    matched = []
    for cluster_id, signature, cause_keys in rows:
        if (cluster.signature and signature == cluster.signature) or keys.intersection(
            key for key in cause_keys or [] if isinstance(key, str)
        ):
            matched.append(cluster_id)
            if len(matched) >= MAX_SAME_CAUSE_CLUSTERS:
                break
    return matched


def _later_passes(failures: list[tuple], *, same_cluster: bool, limit: int) -> list[FixAttempt]:
    """For each failure, the first passing attempt numbered after it; the latest-ending fixes first (one query)."""
    if not failures or limit <= 0:
        return []
    passes = (
        Attempt.objects.filter(
            phase=Phase.MIGRATION,
            outcome=Outcome.SUCCEEDED,
            migration_id__in={row[0] for row in failures},
            repository_id__in={row[1] for row in failures},
        )
        .select_related("repository", "migration")
        .order_by("number", "ended_at", "id")[: MAX_FAILURES * 2]
    )
    by_target: dict[tuple[int, int], list[Attempt]] = {}
    for attempt in passes:
        by_target.setdefault((attempt.migration_id, attempt.repository_id), []).append(attempt)
    found: dict[tuple[int, int], FixAttempt] = {}
    for migration_id, repository_id, number, trace_id in failures:
        target = (migration_id, repository_id)
        later = next((a for a in by_target.get(target, []) if a.number > number), None)
        if later is not None and target not in found:
            found[target] = FixAttempt(attempt=later, failed_trace_id=trace_id, same_cluster=same_cluster)
    ordered = sorted(
        found.values(), key=lambda f: f.attempt.ended_at.timestamp() if f.attempt.ended_at else 0.0, reverse=True
    )
    return ordered[:limit]
