"""Celery tasks of trace import: thin, idempotent, calling one service each."""

import logging

from celery import shared_task

from runs.imports.models import ImportRun
from runs.imports.services import import_run_execute

logger = logging.getLogger(__name__)


# The name is pinned: queued messages and the beat schedule name it, whatever module defines it.
@shared_task(name="runs.tasks.import_traces_task", acks_late=True, ignore_result=True)
def import_traces_task(run_id: int | None = None) -> None:
    """Runs a queued import, or (from the schedule) a new one unless another is running.

    Idempotent: a redelivered task finds its run already claimed; re-importing a trace
    only updates it.
    """
    if run_id is None and ImportRun.objects.filter(status=ImportRun.Status.RUNNING).exists():
        logger.info("an import is already running; the scheduled import waits for the next tick")
        return
    import_run_execute(run_id=run_id, trigger="schedule")
