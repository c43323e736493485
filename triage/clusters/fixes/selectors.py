"""Which attempts fixed a cluster's cause: later passing attempts after a failure with its signature, here or elsewhere."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from runs.fleet.models import Attempt, Outcome, Phase, VerifierResult
from triage.clusters.models import ClusterKind, ClusterMember, FailureCluster

MAX_FAILURES = 2_000
MAX_SAME_CAUSE_CLUSTERS = 50
MAX_SCANNED_CLUSTERS = 5_000
MAX_SIGNATURES = 200


@dataclass(frozen=True)
class FixAttempt:
    """A passing attempt that came after a failure of the cause on the same repository and migration."""

    attempt: Attempt
    failed_trace_id: str


def cluster_fix_attempts(*, cluster: FailureCluster, limit: int) -> list[FixAttempt]:
    """Up to `limit` fixing attempts, latest first: of this migration's repositories first, then of other migrations.

    Members leave a cluster once their repository passes, so the failures fixed later are found by the
    signatures of the cluster and of clusters with the same cause, among all failed verifier calls.
    """
    if cluster.kind == ClusterKind.VERIFY:
        wanted = Q(signature__in=_member_signatures([cluster.pk, *same_cause_cluster_ids(cluster=cluster)]))
        if cluster.signature:
            wanted |= Q(signature=cluster.signature)
        # Failures still current are members of some cluster and were not fixed: skip them to reach older ones.
        current = ClusterMember.objects.filter(attempt_id=OuterRef("attempt_id"))
        rows = (
            VerifierResult.objects.filter(wanted, ~Exists(current), passed=False, attempt__phase=Phase.MIGRATION)
            .order_by("-attempt_id")
            .values_list(
                "attempt__migration_id", "attempt__repository_id", "attempt__number", "attempt__trace_id", "attempt_id"
            )
        )
    else:
        rows = (
            ClusterMember.objects.filter(cluster=cluster)
            .order_by("-joined_at", "-id")
            .values_list("migration_id", "repository_id", "attempt__number", "attempt__trace_id", "attempt_id")
        )
    failures = list(rows[:MAX_FAILURES])
    found = _later_passes(failures)
    # This migration's fixes first: its own repositories and prompt; other migrations' after them.
    found.sort(key=lambda fix: fix.attempt.migration_id != cluster.migration_id)
    return found[:limit]


def _member_signatures(cluster_ids: list[int]):
    """The distinct failure signatures of these clusters' members, as a subquery (bounded)."""
    return (
        ClusterMember.objects.filter(cluster_id__in=cluster_ids)
        .exclude(signature="")
        .order_by()
        .values("signature")
        .distinct()[:MAX_SIGNATURES]
    )


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


def _later_passes(failures: list[tuple]) -> list[FixAttempt]:
    """For each failure, its own attempt when that session went on to pass, else the first passing attempt
    numbered after it; the latest-ending fixes first (one query)."""
    if not failures:
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
    for migration_id, repository_id, number, trace_id, attempt_id in failures:
        target = (migration_id, repository_id)
        later = next((a for a in by_target.get(target, []) if a.number > number or a.pk == attempt_id), None)
        if later is not None and target not in found:
            found[target] = FixAttempt(attempt=later, failed_trace_id=trace_id)
    return sorted(
        found.values(), key=lambda f: f.attempt.ended_at.timestamp() if f.attempt.ended_at else 0.0, reverse=True
    )
