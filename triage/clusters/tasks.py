"""Celery tasks of failure clustering: thin, idempotent, one service call each."""

import logging

from celery import shared_task

from fleetui.common.tasks import TRANSIENT_RETRY
from runs.fleet.models import Migration
from triage.clusters.models import ClusteringRun
from triage.clusters.services import clustering_run_execute
from triage.clusters.writeback import writeback_run

logger = logging.getLogger(__name__)


@shared_task(name="triage.tasks.cluster_rebuild_task", acks_late=True, ignore_result=True)
def cluster_rebuild_task(migration_id: int, run_id: int | None = None) -> None:
    """Rebuild one migration's clusters; skips when another clustering run of it is busy."""
    clustering_run_execute(migration_id=migration_id, mode=ClusteringRun.Mode.FULL, run_id=run_id)


@shared_task(name="triage.tasks.clusters_rebuild_all_task", acks_late=True, ignore_result=True)
def clusters_rebuild_all_task() -> None:
    """From the schedule: one rebuild task per migration."""
    for migration_id in Migration.objects.order_by("pk").values_list("pk", flat=True):
        cluster_rebuild_task.delay(migration_id)


@shared_task(name="triage.tasks.clusters_assign_new_task", acks_late=True, ignore_result=True)
def clusters_assign_new_task(migration_id: int | None = None) -> None:
    """After an import: place new failures of one migration (or of every migration) in clusters."""
    ids = [migration_id] if migration_id else Migration.objects.order_by("pk").values_list("pk", flat=True)
    for pk in ids:
        clustering_run_execute(migration_id=pk, mode=ClusteringRun.Mode.INCREMENTAL)


@shared_task(name="triage.tasks.mlflow_writeback_task", **TRANSIENT_RETRY)
def mlflow_writeback_task(self, migration_id=None, cluster_ids=(), attempt_ids=()) -> None:
    """Write the labels of a migration, some clusters or some attempts to MLflow; unchanged ones cost no call."""
    writeback_run(migration_id=migration_id, cluster_ids=cluster_ids or (), attempt_ids=attempt_ids or ())
