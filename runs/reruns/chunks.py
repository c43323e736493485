"""Dispatch a chunk of a batch's items in one task: one claim, runs side by side, their outcomes written together.

The chunk's queued items are claimed together (queued -> dispatched, each with its own try's key, one
claim token for the chunk) under the migration's lock, up to its rerun concurrency: the migration's
FLEETUI_RERUN_CONCURRENCY stays the one limit on how many run at once, whatever the chunking. Each
claimed item then runs in a thread of its own, which only waits on the runner; every database write
stays on the task's thread, which beats for the chunk and writes what the runs report as they report
it: a run that has started before its thread goes on (so a worker that dies afterwards leaves it
marked started, never run twice), outcomes a few at a time. Every write is fenced by the claim token,
as for an item's own task (`dispatch.py`).

A worker that dies mid-chunk loses nothing and runs nothing twice: the watchdog takes back its claimed
items (started ones fail with that reason, the others are queued again), and the chunk's message,
delivered again, skips what is finished or in flight elsewhere. What the chunk could not claim (the
concurrency limit) goes back to the queue as a new chunk.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from fleetui.common.models import heartbeat_interval
from runs.fleet.models import Migration
from runs.reruns.dispatch import _job, idempotency_key, rerun_item_execute
from runs.reruns.models import IN_FLIGHT_STATES, RerunItem, RerunState
from runs.reruns.runners import RunJob, runner_get
from runs.reruns.runners.base import (
    PermanentRunnerError,
    RunnerConfigurationError,
    RunResult,
    TransientRunnerError,
    tail,
)
from runs.reruns.services import rerun_batch_finish_if_done

logger = logging.getLogger(__name__)

# A selection goes out in chunks of at most this many items, one task each (`rerun_items_dispatch_task`) ...
DISPATCH_CHUNK = 20
# ... cut so that a batch is spread over several chunks, for several workers to share; a selection of at most
# this many items goes out one task per item.
DISPATCH_SPREAD = 16
# What the writer waits for more reports to write with the first one.
GATHER_SECONDS = 0.005


def dispatch_chunks(items: list) -> list[list]:
    """The selection cut into consecutive chunks: DISPATCH_CHUNK items at most, about DISPATCH_SPREAD of them."""
    size = max(1, min(DISPATCH_CHUNK, len(items) // DISPATCH_SPREAD))
    return [items[start : start + size] for start in range(0, len(items), size)]


def wait_countdown() -> float:
    return random.uniform(1.0, 3.0)


@dataclass
class ChunkResult:
    """What a chunk did: items it finished with, items for a later chunk, items to dispatch on their own."""

    done: list[int] = field(default_factory=list)
    later: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    alone: list[int] = field(default_factory=list)


def _items(item_ids: list[int]) -> list[RerunItem]:
    rows = RerunItem.objects.select_related("batch__prompt_revision", "repository", "migration", "source_attempt")
    return list(rows.filter(pk__in=item_ids).order_by("pk"))


def rerun_chunk_execute(*, item_ids: list[int]) -> ChunkResult:
    """Claim the chunk's queued items and dispatch them side by side; safe to call again for the same chunk."""
    result = ChunkResult()
    items = _items(item_ids)
    # Redelivered while in flight: each goes through its own task, which takes it back if its worker is gone.
    result.alone = [i.pk for i in items if i.state in IN_FLIGHT_STATES]
    queued = [i for i in items if i.state == RerunState.QUEUED]
    batches = {i.batch_id for i in queued}
    try:
        for migration_id in sorted({i.migration_id for i in queued}):
            group = [i for i in queued if i.migration_id == migration_id]
            _group_execute(group, result)
    finally:
        # Once per batch, not once per item: outcomes judged and the batch closed when nothing is left.
        for batch_id in sorted(batches):
            rerun_batch_finish_if_done(batch_id=batch_id)
    return result


def _group_execute(items: list[RerunItem], result: ChunkResult) -> None:
    runners, runnable = {}, []
    for item in items:
        name = item.batch.runner
        if name not in runners:
            try:
                runners[name] = runner_get(name)
            except RunnerConfigurationError:
                runners[name] = None
        if runners[name] is None:
            # Fails with the reason, as its own task would.
            rerun_item_execute(item_id=item.pk, item=item, final_try=False, finish=False)
            result.done.append(item.pk)
        else:
            runnable.append(item)
    claimed, token = _claim(runnable, runners)
    result.later += [i.pk for i in runnable if i.pk not in {c.pk for c in claimed}]
    if claimed:
        _Chunk(claimed, token, runners, result).run()


def _claim(items: list[RerunItem], runners: dict) -> tuple[list[RerunItem], str]:
    """Queued -> dispatched for as many of the items as the migration's concurrency allows, in one UPDATE."""
    if not items:
        return [], ""
    claim = RerunItem.claim_fields()
    now = timezone.now()
    with transaction.atomic():
        Migration.objects.select_for_update().filter(pk=items[0].migration_id).first()
        in_flight = RerunItem.objects.filter(migration_id=items[0].migration_id, state__in=IN_FLIGHT_STATES).count()
        chosen = items[: max(0, settings.RERUN_CONCURRENCY - in_flight)]
        if not chosen:
            return [], ""
        tokens = {i.pk: idempotency_key(i, i.tries + 1) for i in chosen}
        refs = {
            i.pk: runners[i.batch.runner].reference(RunJob(i.batch_id, i.pk, "", "", None, "", 0, tokens[i.pk]))[:300]
            for i in chosen
        }
        fields = {"state": RerunState.DISPATCHED, "started": False, "dispatched_at": now, "updated_at": now}
        RerunItem.objects.filter(pk__in=tokens, state=RerunState.QUEUED).update(
            tries=F("tries") + 1,
            dispatch_token=_case(tokens),
            runner_ref=_case(refs),
            error="",
            **fields,
            **claim,
        )
        # Cancelled meanwhile: not claimed.
        won = set(
            RerunItem.objects.filter(pk__in=tokens, claim_token=claim["claim_token"]).values_list("pk", flat=True)
        )
    claimed = [i for i in chosen if i.pk in won]
    for item in claimed:
        for name, value in {**fields, **claim, "dispatch_token": tokens[item.pk], "runner_ref": refs[item.pk]}.items():
            setattr(item, name, value)
        item.tries += 1
    return claimed, claim["claim_token"]


def _case(values: dict[int, str]) -> Case:
    return Case(*(When(pk=pk, then=Value(value)) for pk, value in values.items()), default=Value(""))


class _Chunk:
    """The claimed items' runs, each on a thread that only waits on the runner; all writes on the task's thread."""

    def __init__(self, items: list[RerunItem], token: str, runners: dict, result: ChunkResult) -> None:
        self.items = {i.pk: i for i in items}
        self.token = token
        self.runners = runners
        self.result = result
        self.reports: queue.Queue = queue.Queue()

    def run(self) -> None:
        jobs = {pk: _job(item) for pk, item in self.items.items()}
        threads = [
            threading.Thread(target=self._dispatch, args=(pk, jobs[pk]), name=f"rerun-{pk}", daemon=True)
            for pk in self.items
        ]
        for thread in threads:
            thread.start()
        open_items = set(self.items)
        beat_every = heartbeat_interval()
        next_beat = time.monotonic() + beat_every
        waiting: list[threading.Event] = []
        try:
            while open_items:
                reports = self._gather(timeout=max(0.0, next_beat - time.monotonic()))
                started = [(pk, ref) for kind, pk, ref, _ in reports if kind == "started"]
                waiting += [event for kind, _, _, event in reports if kind == "started"]
                finished = {pk: outcome for kind, pk, outcome, _ in reports if kind == "finished"}
                self._write_started([(pk, ref) for pk, ref in started if pk not in finished])
                for event in waiting:
                    event.set()
                self._write_finished(finished)
                open_items -= set(finished)
                if time.monotonic() >= next_beat and open_items:
                    self._beat(open_items)
                    next_beat = time.monotonic() + beat_every
        finally:
            # Never leave a run waiting on a write that will not come (its item is taken back without heartbeats).
            for event in waiting:
                event.set()
        for thread in threads:
            thread.join()

    def _dispatch(self, pk: int, job: RunJob) -> None:
        item = self.items[pk]

        def on_started(ref: str) -> None:
            # The run goes on once the writer has recorded that it started.
            event = threading.Event()
            self.reports.put(("started", pk, ref, event))
            event.wait()

        try:
            outcome: RunResult | BaseException = self.runners[item.batch.runner].dispatch(job, on_started=on_started)
        except BaseException as exc:  # reported, and written, on the task's thread
            outcome = exc
        self.reports.put(("finished", pk, outcome, None))

    def _gather(self, *, timeout: float) -> list[tuple]:
        try:
            reports = [self.reports.get(timeout=timeout)]
        except queue.Empty:
            return []
        time.sleep(GATHER_SECONDS)
        while True:
            try:
                reports.append(self.reports.get_nowait())
            except queue.Empty:
                return reports

    def _rows(self, pks):
        return RerunItem.objects.filter(pk__in=list(pks), claim_token=self.token, state__in=IN_FLIGHT_STATES)

    def _beat(self, pks: set[int]) -> None:
        try:
            self._rows(pks).update(heartbeat_at=timezone.now())
        except Exception:
            logger.warning("could not record a heartbeat for %d rerun items", len(pks), exc_info=True)

    def _write_started(self, started: list[tuple[int, str]]) -> None:
        if started:
            refs = {pk: ref[:300] for pk, ref in started}
            self._rows(refs).update(
                state=RerunState.RUNNING, started=True, runner_ref=_case(refs), updated_at=timezone.now()
            )

    def _write_finished(self, finished: dict[int, RunResult | BaseException]) -> None:
        rows: dict[int, dict] = {}
        for pk, outcome in finished.items():
            fields = self._fields(self.items[pk], outcome)
            if fields is not None:
                rows[pk] = fields
        if not rows:
            return
        now = timezone.now()
        names = sorted({name for fields in rows.values() for name in fields})
        cases = {
            name: Case(
                *(
                    When(pk=pk, then=Value(fields[name], output_field=model_field))
                    for pk, fields in rows.items()
                    if name in fields
                ),
                default=F(name),
                output_field=model_field,
            )
            for name in names
            for model_field in (RerunItem._meta.get_field(name),)
        }
        landed = self._rows(rows).update(updated_at=now, **cases)
        if landed < len(rows):
            logger.warning("%d rerun items were taken back from this worker while they ran", len(rows) - landed)

    def _fields(self, item: RerunItem, outcome) -> dict | None:
        now = timezone.now()
        if isinstance(outcome, TransientRunnerError):
            # Back to the queue for a new try, on its own with backoff.
            self.result.retry.append(item.pk)
            return {"state": RerunState.QUEUED, "started": False, "error": f"try {item.tries}: {outcome}"[:4000]}
        self.result.done.append(item.pk)
        if isinstance(outcome, (PermanentRunnerError, RunnerConfigurationError)):
            return _failed(str(outcome), now)
        if isinstance(outcome, BaseException):
            logger.error("rerun item %s failed in the runner", item.pk, exc_info=outcome)
            return _failed(tail(f"{type(outcome).__name__}: {outcome}", 2000), now)
        ref = outcome.runner_ref[:300] or item.runner_ref
        if outcome.state == "succeeded":
            return {
                "state": RerunState.SUCCEEDED,
                "started": True,
                "runner_ref": ref,
                "exit_code": outcome.exit_code,
                "output_tail": outcome.output_tail,
                "finished_at": now,
                "error": "",
            }
        if outcome.state == "failed":
            return {
                **_failed(outcome.error or "the run failed", now),
                "exit_code": outcome.exit_code,
                "output_tail": outcome.output_tail,
            }
        # Still running at the runner: its callback finishes the item (the claim stays, with no heartbeat).
        return {"state": RerunState.RUNNING, "started": True, "runner_ref": ref, "heartbeat_at": None}


def _failed(reason: str, now) -> dict:
    return {"state": RerunState.FAILED, "error": reason[:4000], "finished_at": now}
