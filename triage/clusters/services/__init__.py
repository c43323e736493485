"""Services that write failure clusters: rebuilds, incremental assignment and triage actions."""

import logging

from django.db import transaction

from runs.fleet.audit import audit_event_record
from runs.fleet.models import Migration
from triage.clusters.models import ClusteringRun
from triage.clusters.services.actions import TriageError, cluster_merge, cluster_split, cluster_update, user_can_triage
from triage.clusters.services.clustering_runs import clustering_run_enqueue, clustering_run_execute
from triage.clusters.services.common import clusters_refresh_counts
from triage.clusters.services.incremental import clusters_assign_new
from triage.clusters.services.rebuild import clusters_rebuild

__all__ = [
    "TriageError",
    "after_import",
    "cluster_merge",
    "cluster_rebuild_request",
    "cluster_split",
    "cluster_update",
    "clustering_run_enqueue",
    "clustering_run_execute",
    "clusters_assign_new",
    "clusters_rebuild",
    "clusters_refresh_counts",
    "user_can_triage",
]

logger = logging.getLogger(__name__)


def after_import(run) -> None:
    """Once the import's writes are committed, place its new failures in clusters on a worker."""
    # Here, not at the top: the tasks module imports this one.
    from triage.clusters.tasks import clusters_assign_new_task

    def enqueue() -> None:
        # Clustering is a follow-up: a broker hiccup must not turn a finished import into a failed one.
        try:
            clusters_assign_new_task.delay()
        except Exception:
            logger.exception("could not queue cluster assignment after import %s", getattr(run, "pk", None))

    transaction.on_commit(enqueue)


def cluster_rebuild_request(*, migration: Migration, user) -> ClusteringRun:
    """Queue a full rebuild of the migration's clusters for a person, with an audit event."""
    # Here, not at the top: the tasks module imports this one.
    from triage.clusters.tasks import cluster_rebuild_task

    run = clustering_run_enqueue(migration=migration, mode=ClusteringRun.Mode.FULL, user=user)
    audit_event_record(actor=user, verb="cluster.rebuild", target=run, migration=migration)
    transaction.on_commit(lambda: cluster_rebuild_task.delay(migration.pk, run_id=run.pk))
    return run
