"""Celery tasks of trace import: thin, idempotent, calling one service each."""

import logging

from celery import shared_task

from runs.imports.services import import_run_execute, import_running_elsewhere, import_runs_recover

logger = logging.getLogger(__name__)


# The name is pinned: queued messages and the beat schedule name it, whatever module defines it.
@shared_task(name="runs.tasks.import_traces_task", acks_late=True, ignore_result=True)
def import_traces_task(run_id: int | None = None) -> None:
    """Runs a queued import, or (from the schedule) a new one unless another is running.

    The scheduled call first takes back imports whose worker is gone: they run again instead,
    and no longer block the schedule. Idempotent: a redelivered task finds its run already
    claimed; re-importing a trace only updates it.
    """
    if run_id is None:
        if import_runs_recover().retried:
            logger.info("an import whose worker stopped runs again; the scheduled import waits for the next tick")
            return
        if import_running_elsewhere():
            logger.info("an import is already running; the scheduled import waits for the next tick")
            return
    import_run_execute(run_id=run_id, trigger="schedule")
