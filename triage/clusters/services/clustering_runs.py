"""Clustering runs: claim one per migration at a time, record counts, time and errors."""

import logging
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fleetui.common.roles import real_user
from runs.fleet.models import Migration
from triage.clusters.models import ClusteringRun
from triage.clusters.services.incremental import clusters_assign_new
from triage.clusters.services.rebuild import clusters_rebuild
from triage.clusters.signals import clustering_finished

logger = logging.getLogger(__name__)
Mode = ClusteringRun.Mode
RunStatus = ClusteringRun.Status
# A run older than this is presumed dead (its worker was killed) and no longer blocks new ones.
STALE_AFTER_SECONDS = 2 * 3600


def clustering_run_enqueue(*, migration: Migration, mode: str = Mode.FULL, user=None) -> ClusteringRun:
    """A queued run row; the worker task claims and executes it."""
    return ClusteringRun.objects.create(migration=migration, mode=mode, requested_by=real_user(user))


def _claim(migration_id: int, mode: str, run_id: int | None) -> ClusteringRun | None:
    """Mark the run running unless another run of the migration is; None when this one must skip."""
    with transaction.atomic():
        # Lock the migration row so two workers cannot both see "nothing running".
        Migration.objects.select_for_update().filter(pk=migration_id).first()
        cutoff = timezone.now() - timezone.timedelta(seconds=STALE_AFTER_SECONDS)
        busy = ClusteringRun.objects.filter(
            migration_id=migration_id, status=RunStatus.RUNNING, started_at__gte=cutoff
        ).exclude(pk=run_id)
        run = ClusteringRun.objects.filter(pk=run_id).first() if run_id else None
        if run is not None and run.status != RunStatus.QUEUED:
            return None  # redelivered: already claimed or done
        if busy.exists():
            if run is not None:
                run.status, run.finished_at = RunStatus.SKIPPED, timezone.now()
                run.error = "another clustering run of this migration was running"
                run.save(update_fields=["status", "finished_at", "error"])
            return None
        if run is None:
            run = ClusteringRun(migration_id=migration_id, mode=mode)
        run.status, run.started_at = RunStatus.RUNNING, timezone.now()
        run.save()
        return run


def clustering_run_execute(
    *, migration_id: int, mode: str = Mode.FULL, run_id: int | None = None, threshold: float | None = None
) -> ClusteringRun | None:
    """Claim and run a rebuild or an incremental assignment; None when another run of the migration is busy."""
    run = _claim(migration_id, mode, run_id)
    if run is None:
        logger.info("clustering of migration %s is busy or already done; skipping", migration_id)
        return None
    threshold = settings.CLUSTER_THRESHOLD if threshold is None else threshold
    started = time.perf_counter()
    try:
        service = clusters_rebuild if run.mode == Mode.FULL else clusters_assign_new
        counts = service(migration=run.migration, threshold=threshold)
        for name, value in counts.items():
            setattr(run, name, value)
        run.status = RunStatus.SUCCEEDED
    except Exception as exc:
        logger.exception("clustering run %s failed", run.pk)
        run.status, run.error = RunStatus.FAILED, f"{type(exc).__name__}: {str(exc)[:500]}"
    run.seconds = round(time.perf_counter() - started, 3)
    run.finished_at = timezone.now()
    run.save()
    for receiver, result in clustering_finished.send_robust(sender=ClusteringRun, run=run):
        if isinstance(result, Exception):
            logger.error("a follow-up of clustering run %s failed: %s", run.pk, receiver, exc_info=result)
    return run
