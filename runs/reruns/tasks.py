"""Celery tasks for reruns: a task per chunk of items (or per item), a watchdog for lost deliveries, result linking."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.signals import worker_ready

from fleetui.common.models import watchdog_interval
from fleetui.common.tasks import backoff_countdown
from runs.reruns.chunks import rerun_chunk_execute, wait_countdown
from runs.reruns.dispatch import rerun_item_execute
from runs.reruns.models import RerunBatch, RerunItem
from runs.reruns.recovery import rerun_items_recover
from runs.reruns.services import rerun_items_enqueue, rerun_results_link, task_id_for, unfinished_batches_exist

logger = logging.getLogger(__name__)

RETRY_CAP_SECONDS = 300.0

RETRY_LIMIT = 5
LINK_TRIES = 120


@shared_task(
    name="runs.tasks_reruns.rerun_item_task",
    bind=True,
    acks_late=True,
    # A pool process killed mid-task puts its message back; the item's claim makes that safe.
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=RETRY_LIMIT,
    # Time limits: the app-wide CELERY_TASK_TIME_LIMIT / CELERY_TASK_SOFT_TIME_LIMIT, which the
    # broker's visibility timeout exceeds, and which the runners' own timeouts stay under.
)
def rerun_item_task(self, item_id: int) -> str:
    """Dispatch one rerun item; idempotent per (batch, repository) and per try."""

    outcome = rerun_item_execute(item_id=item_id, final_try=self.request.retries >= RETRY_LIMIT)
    if outcome.action == "wait":
        # At the migration's concurrency limit: look again shortly (not counted as a retry).
        rerun_item_task.apply_async((item_id,), countdown=random.uniform(1.0, 3.0), task_id=self.request.id)
    elif outcome.action == "retry":
        raise self.retry(countdown=backoff_countdown(self.request.retries, cap=RETRY_CAP_SECONDS))
    return outcome.action


@shared_task(
    name="runs.tasks_reruns.rerun_items_dispatch_task", acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def rerun_items_dispatch_task(item_ids: list[int]) -> int:
    """Dispatch a chunk of items in turn (runs.reruns.chunks); safe to run again for the same chunk at any point.

    What the chunk could not claim (the migration's concurrency limit) goes out again as a new chunk; an item the
    runner could not take for now retries on its own, with backoff, as does one found in flight (redelivered).
    """
    result = rerun_chunk_execute(item_ids=[int(pk) for pk in item_ids])
    if result.later:
        # At the migration's concurrency limit: look again shortly.
        rerun_items_dispatch_task.apply_async((result.later,), countdown=wait_countdown())
    for item_id in result.alone:
        rerun_item_task.apply_async((item_id,))
    for item_id, tries in RerunItem.objects.filter(pk__in=result.retry).values_list("pk", "tries"):
        # Its first retry: the chunk was its first try.
        countdown = backoff_countdown(0, cap=RETRY_CAP_SECONDS)
        rerun_item_task.apply_async((item_id,), task_id=task_id_for(item_id, tries), countdown=countdown, retries=1)
    return len(result.done)


@shared_task(
    name="runs.tasks_reruns.rerun_items_fanout_task", acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def rerun_items_fanout_task(items: list[list[int]]) -> int:
    """Send the tasks of a part of a large batch's items ([item id, tries] pairs); safe to run twice.

    Batches no longer go out this way (their chunks are sent directly); kept for messages already queued.
    """
    pairs = [(int(item_id), int(tries)) for item_id, tries in items]
    rerun_items_enqueue(items=pairs)
    return len(pairs)


@shared_task(name="runs.tasks_reruns.reruns_watchdog_task", acks_late=True, ignore_result=True)
def reruns_watchdog_task(follow: bool = True) -> int:
    """Take back items whose worker is gone and send again lost tasks; with `follow`, look again while batches run.

    The beat schedule calls it with follow=False every `watchdog_interval()`; batches and starting workers start a
    following chain, so recovery also happens where no beat runs. Idempotent: every take-back is a conditional UPDATE.
    """

    interval = watchdog_interval()
    moved = rerun_items_recover(stall_after=interval)
    if moved:
        logger.warning("moved %d rerun items a stopped worker had taken", moved)
    if follow and unfinished_batches_exist():
        reruns_watchdog_task.apply_async(countdown=interval)
    return moved


@shared_task(name="runs.tasks_reruns.rerun_results_link_task", acks_late=True, ignore_result=True)
def rerun_results_link_task(batch_id: int, tries: int = 0) -> int:
    """Once the batch's import has run, link each item to the attempt it produced."""

    batch = RerunBatch.objects.select_related("import_run").filter(pk=batch_id).first()
    if batch is None:
        return 0
    if batch.import_run is not None and not batch.import_run.done and tries < LINK_TRIES:
        rerun_results_link_task.apply_async((batch_id, tries + 1), countdown=min(60, 5 + tries * 2))
        return 0
    return rerun_results_link(batch=batch)


@worker_ready.connect
def _recover_on_start(sender=None, **kwargs) -> None:
    # A worker that starts may replace one that was killed: look for its lost tasks soon.
    try:
        reruns_watchdog_task.apply_async(countdown=2)
    except Exception:
        logger.warning("could not schedule the rerun watchdog", exc_info=True)
