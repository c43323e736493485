"""Triage actions on several clusters at once, from the cluster list's selection."""

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from triage.clusters.models import FailureCluster
from triage.clusters.services.actions import _UNSET, TriageError, cluster_merge, cluster_update

MAX_BULK = 500


@dataclass
class BulkResult:
    changed: int = 0
    unchanged: int = 0
    merged_into: FailureCluster | None = None
    skipped: list[str] = field(default_factory=list)


def clusters_selected(*, migration, ids: list[int]) -> list[FailureCluster]:
    """The migration's clusters with these ids, largest first; ids of other migrations are left out."""
    if len(ids) > MAX_BULK:
        raise TriageError(f"select at most {MAX_BULK} clusters at once")
    return list(
        FailureCluster.objects.filter(migration=migration, pk__in=ids)
        .select_related("migration", "assignee")
        .order_by("-size", "id")
    )


def clusters_bulk_update(
    *, clusters: list[FailureCluster], actor, status: str | None = None, assignee: Any = _UNSET
) -> BulkResult:
    """Set the status and/or assignee of every cluster; one audit event per cluster that changed."""
    if status is not None and status not in FailureCluster.Status.values:
        raise TriageError(f"unknown status {status[:40]!r}")
    result = BulkResult()
    with transaction.atomic():
        for cluster in clusters:
            before = (cluster.status, cluster.assignee_id)
            cluster_update(cluster=cluster, actor=actor, status=status, assignee=assignee)
            if (cluster.status, cluster.assignee_id) != before:
                result.changed += 1
            else:
                result.unchanged += 1
    return result


def clusters_bulk_merge(*, clusters: list[FailureCluster], actor) -> BulkResult:
    """Merge every selected cluster into the largest one of its kind; needs two or more of one kind."""
    if len(clusters) < 2:
        raise TriageError("select two or more clusters to merge")
    kinds = {c.kind for c in clusters}
    if len(kinds) > 1:
        raise TriageError("only clusters of one kind merge: select verifier clusters or judge clusters, not both")
    into, *sources = clusters  # largest first
    result = BulkResult()
    with transaction.atomic():
        for source in sources:
            into = cluster_merge(source=source, into=into, actor=actor)
            result.changed += 1
    result.merged_into = into
    return result
