"""Celery tasks of the runs app: thin, idempotent, calling one service each."""

import logging

from celery import shared_task

from runs.models import ImportRun
from runs.services.importing import import_run_execute

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def import_traces_task(run_id: int | None = None) -> None:
    """Runs a queued import, or (from the schedule) a new one unless another is running.

    Idempotent: a redelivered task finds its run already claimed; re-importing a trace
    only updates it.
    """
    if run_id is None and ImportRun.objects.filter(status=ImportRun.Status.RUNNING).exists():
        logger.info("an import is already running; the scheduled import waits for the next tick")
        return
    import_run_execute(run_id=run_id, trigger="schedule")


from runs.tasks_github import *  # noqa: E402,F401,F403
from runs.tasks_reruns import *  # noqa: E402,F401,F403
