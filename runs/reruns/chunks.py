"""Dispatch a chunk of a batch's items in one task: one read for the chunk, one close of each batch.

A chunk's items run one after another in the task (a worker process still runs one command at a
time), each claimed just before it runs exactly as a task of its own would be (`dispatch.py`), so a
worker that dies mid-chunk loses nothing and runs nothing twice: the item it was running is taken back
by the watchdog, the ones it had not reached are still queued, and the chunk's message, delivered
again, skips the finished ones. What a task per item paid for each item is paid once per chunk: the
message and its acknowledgement, reading the items with what their jobs need, judging the outcomes
and closing the batch.

A chunk stops taking items after CHUNK_BUDGET_SECONDS (long runs would otherwise hold the rest of it
past the task's time limit), and at the migration's concurrency limit; what it did not reach goes back
to the queue as a new chunk.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field

from django.conf import settings

from runs.reruns.dispatch import Outcome, rerun_item_execute
from runs.reruns.models import RerunItem
from runs.reruns.runners import runner_get
from runs.reruns.runners.base import RunnerConfigurationError
from runs.reruns.services import rerun_batch_finish_if_done

logger = logging.getLogger(__name__)


# A selection goes out in chunks of at most this many items, one task each (`rerun_items_dispatch_task`) ...
DISPATCH_CHUNK = 20
# ... and in at least this many chunks, so that several workers share a batch; a selection this small or
# smaller goes out one task per item.
DISPATCH_SPREAD = 8


def dispatch_chunks(items: list) -> list[list]:
    """The selection cut into consecutive chunks: DISPATCH_CHUNK items at most, DISPATCH_SPREAD chunks at least."""
    size = max(1, min(DISPATCH_CHUNK, -(-len(items) // DISPATCH_SPREAD)))
    return [items[start : start + size] for start in range(0, len(items), size)]


def chunk_budget_seconds() -> float:
    """How long a chunk keeps taking new items: a third of the task's soft time limit."""
    return max(1.0, settings.CELERY_TASK_SOFT_TIME_LIMIT / 3)


@dataclass
class ChunkResult:
    """What a chunk did: items it finished with, items for a later chunk, items to retry on their own."""

    done: list[int] = field(default_factory=list)
    later: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    wait: bool = False


def _items(item_ids: list[int]) -> list[RerunItem]:
    rows = (
        RerunItem.objects.select_related("batch__prompt_revision", "repository", "migration", "source_attempt")
        .filter(pk__in=item_ids)
        .order_by("pk")
    )
    return list(rows)


def rerun_chunk_execute(*, item_ids: list[int], budget: float | None = None) -> ChunkResult:
    """Claim and dispatch the chunk's items in turn; safe to call again for the same chunk at any point."""
    budget = chunk_budget_seconds() if budget is None else budget
    result = ChunkResult()
    runners: dict[str, object] = {}
    batches: set[int] = set()
    started = time.monotonic()
    items = _items(item_ids)
    try:
        for index, item in enumerate(items):
            if index and time.monotonic() - started > budget:
                result.later = [i.pk for i in items[index:]]
                break
            outcome = _execute(item, runners)
            batches.add(item.batch_id)
            if outcome.action == "wait":
                result.later, result.wait = [i.pk for i in items[index:]], True
                break
            (result.retry if outcome.action == "retry" else result.done).append(item.pk)
    finally:
        # Once per batch, not once per item: outcomes judged and the batch closed when nothing is left.
        for batch_id in sorted(batches):
            rerun_batch_finish_if_done(batch_id=batch_id)
    return result


def _execute(item: RerunItem, runners: dict) -> Outcome:
    name = item.batch.runner
    if name not in runners:
        try:
            runners[name] = runner_get(name)
        except RunnerConfigurationError:
            runners[name] = None  # each item then fails with the reason, as its own task would
    # The chunk is the item's first delivery: a transient runner error sends it on to retry on its own.
    return rerun_item_execute(item_id=item.pk, runner=runners[name], final_try=False, item=item, finish=False)


def wait_countdown() -> float:
    return random.uniform(1.0, 3.0)
