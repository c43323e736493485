"""Dispatch one rerun item to the runner, exactly once per try, whatever the worker goes through.

The item row is the dispatch record: a conditional UPDATE (queued -> dispatched) claims it,
sets the try's idempotency key and a claim token before the runner is called, so a redelivered
task finds the claim and does not dispatch blindly. While the runner works, a heartbeat thread
shows the worker is alive; every write of the outcome is fenced by the claim token. When the
worker is gone, the watchdog (`recovery.py`) takes the item back: runners that name a run in
advance (Kubernetes Job names, HTTP idempotency keys) are called again with the same key and
only follow the existing run; a local command that had started is not started again (its
result went with the worker) and the item fails with that reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from fleetui.common.liveness import heartbeat
from runs.fleet.models import Migration
from runs.reruns.models import RerunItem, RerunState
from runs.reruns.recovery import rerun_items_take_back
from runs.reruns.runners import RunJob, Runner, RunResult, runner_get
from runs.reruns.runners.base import PermanentRunnerError, RunnerConfigurationError, TransientRunnerError, tail
from runs.reruns.services import rerun_batch_finish_if_done

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What the task should do next: `done`, `skip`, `wait` (at the concurrency limit) or `retry`."""

    action: str
    detail: str = ""


def idempotency_key(item: RerunItem, tries: int) -> str:
    return f"{item.batch_id}:{item.repository_id}:{tries}"


def _job(item: RerunItem) -> RunJob:
    revision = item.batch.prompt_revision
    source = item.source_attempt
    return RunJob(
        batch_id=item.batch_id,
        item_id=item.pk,
        repo=item.repository.full_name,
        migration=item.migration.slug,
        prompt_revision=revision.number if revision else None,
        prompt_text=revision.text if revision else "",
        attempt=(source.number if source else 0) + 1,
        idempotency_key=item.dispatch_token,
    )


def _claim(item: RerunItem, runner: Runner) -> bool | None:
    """Queued -> dispatched under the migration's lock; None when the migration is at its concurrency limit."""
    with transaction.atomic():
        Migration.objects.select_for_update().filter(pk=item.migration_id).first()
        in_flight = RerunItem.objects.filter(
            migration_id=item.migration_id, state__in=(RerunState.DISPATCHED, RerunState.RUNNING)
        ).count()
        if in_flight >= settings.RERUN_CONCURRENCY:
            return None
        tries = item.tries + 1
        token = idempotency_key(item, tries)
        probe = RunJob(item.batch_id, item.pk, "", "", None, "", 0, token)
        fields = {
            "state": RerunState.DISPATCHED,
            "dispatch_token": token,
            "runner_ref": runner.reference(probe)[:300],
            "started": False,
            "dispatched_at": timezone.now(),
            "updated_at": timezone.now(),
            "error": "",
            **RerunItem.claim_fields(),
        }
        claimed = RerunItem.objects.filter(pk=item.pk, state=RerunState.QUEUED, tries=item.tries).update(
            tries=F("tries") + 1, **fields
        )
    if claimed:
        # The claim's fields on the row read before: the job needs no second query.
        for name, value in fields.items():
            setattr(item, name, value)
        item.tries = tries
    return bool(claimed)


def _record(item: RerunItem, *, fenced: bool = True, **fields) -> int:
    """Update the item only while it is still this try's, not finished and (when `fenced`) still this claim's."""
    rows = RerunItem.objects.filter(
        pk=item.pk, dispatch_token=item.dispatch_token, state__in=(RerunState.DISPATCHED, RerunState.RUNNING)
    )
    if fenced:
        # Taken back from this worker meanwhile: what it learnt lands nowhere.
        rows = rows.filter(claim_token=item.claim_token)
    return rows.update(updated_at=timezone.now(), **fields)


def _nothing() -> None:
    return None


def _fail(item: RerunItem, reason: str, *, result: RunResult | None = None, finish: bool = True) -> Outcome:
    if not _record(
        item,
        state=RerunState.FAILED,
        error=reason[:4000],
        finished_at=timezone.now(),
        exit_code=result.exit_code if result else None,
        output_tail=result.output_tail if result else "",
    ):
        return _taken_back(item)
    if finish:
        rerun_batch_finish_if_done(batch_id=item.batch_id)
    return Outcome("done", reason)


def _taken_back(item: RerunItem) -> Outcome:
    logger.warning("rerun item %s was taken back from this worker while it ran; its outcome is dropped", item.pk)
    return Outcome("skip", "taken back by the watchdog while it ran")


def _item(item_id: int) -> RerunItem | None:
    return (
        RerunItem.objects.select_related("batch__prompt_revision", "repository", "migration", "source_attempt")
        .filter(pk=item_id)
        .first()
    )


def rerun_item_execute(
    *,
    item_id: int,
    runner: Runner | None = None,
    final_try: bool = True,
    item: RerunItem | None = None,
    finish: bool = True,
) -> Outcome:
    """Claim and dispatch one item; safe to call again for the same item at any point.

    `item` is the row when the caller has read it already (with `_item`'s related rows); with `finish=False` the
    caller closes the batch (`rerun_batch_finish_if_done`) itself once it has dispatched several items.
    """
    item = item if item is not None else _item(item_id)
    done = partial(rerun_batch_finish_if_done, batch_id=item.batch_id) if item is not None and finish else _nothing
    if item is None or item.state not in (RerunState.QUEUED, RerunState.DISPATCHED, RerunState.RUNNING):
        return Outcome("skip", "finished, cancelled or gone")
    try:
        runner = runner or runner_get(item.batch.runner)
    except RunnerConfigurationError as exc:
        if item.state == RerunState.QUEUED:
            RerunItem.objects.filter(pk=item.pk, state=RerunState.QUEUED).update(
                state=RerunState.FAILED,
                error=f"runner misconfigured: {exc}",
                finished_at=timezone.now(),
                updated_at=timezone.now(),
            )
            done()
        return Outcome("done", str(exc))

    if item.state == RerunState.QUEUED:
        claimed = _claim(item, runner)
        if claimed is None:
            return Outcome("wait", "the migration is at its rerun concurrency limit")
        if not claimed:
            return Outcome("skip", "claimed by another delivery")
    else:
        # Redelivered while in flight: a live worker holds it, or the worker is gone and it is taken back here,
        # exactly as the watchdog would.
        taken = rerun_items_take_back(items=RerunItem.objects.filter(pk=item.pk))
        if taken.given_up:
            done()
            return Outcome("done", "its worker stopped; taken back")
        if not taken.retried:
            return Outcome("skip", "in flight in another task")
        return rerun_item_execute(item_id=item_id, runner=runner, final_try=final_try, finish=finish)

    def on_started(ref: str) -> None:
        _record(item, state=RerunState.RUNNING, started=True, runner_ref=ref[:300])

    try:
        # The heartbeat shows the worker is alive while the runner blocks; the outcome's write is fenced by the claim.
        with heartbeat(item):
            result = runner.dispatch(_job(item), on_started=on_started)
    except TransientRunnerError as exc:
        if final_try:
            return _fail(item, f"runner unavailable after {item.tries} tries: {exc}", finish=finish)
        # Back to the queue for a new try; the task retries after a pause.
        _record(item, state=RerunState.QUEUED, started=False, error=f"try {item.tries}: {exc}"[:4000])
        return Outcome("retry", str(exc))
    except (PermanentRunnerError, RunnerConfigurationError) as exc:
        return _fail(item, str(exc), finish=finish)
    except Exception as exc:
        logger.exception("rerun item %s failed in the runner", item.pk)
        return _fail(item, tail(f"{type(exc).__name__}: {exc}", 2000), finish=finish)

    if result.state == "succeeded":
        if not _record(
            item,
            state=RerunState.SUCCEEDED,
            started=True,
            runner_ref=result.runner_ref[:300] or item.runner_ref,
            exit_code=result.exit_code,
            output_tail=result.output_tail,
            finished_at=timezone.now(),
        ):
            return _taken_back(item)
        done()
        return Outcome("done")
    if result.state == "failed":
        return _fail(item, result.error or "the run failed", result=result, finish=finish)
    # Still running at the runner: its callback finishes the item. No worker holds it any more, so no heartbeat
    # (the claim stays: the watchdog leaves an item handed to a callback alone).
    if not _record(
        item,
        state=RerunState.RUNNING,
        started=True,
        runner_ref=result.runner_ref[:300] or item.runner_ref,
        heartbeat_at=None,
    ):
        return _taken_back(item)
    return Outcome("done", "running; waiting for the runner's callback")


CALLBACK_STATES = {"running": RerunState.RUNNING, "succeeded": RerunState.SUCCEEDED, "failed": RerunState.FAILED}


def rerun_callback_apply(
    *, idempotency_key: str, state: str, error: str = "", output: str = "", exit_code=None
) -> bool:
    """Apply a runner's report about the try `idempotency_key`; reports about other tries are ignored."""
    new_state = CALLBACK_STATES.get(state)
    if new_state is None:
        raise ValueError(f"state must be one of {', '.join(CALLBACK_STATES)}")
    item = RerunItem.objects.filter(dispatch_token=idempotency_key).first()
    if item is None:
        return False
    fields = {"state": new_state, "started": True}
    if new_state != RerunState.RUNNING:
        fields.update(
            finished_at=timezone.now(),
            error=error[:4000] if new_state == RerunState.FAILED else "",
            output_tail=tail(output),
            exit_code=exit_code if isinstance(exit_code, int) else None,
        )
    # A report names its try by key, whichever worker holds the item.
    changed = _record(item, fenced=False, **fields)
    if changed and new_state != RerunState.RUNNING:
        rerun_batch_finish_if_done(batch_id=item.batch_id)
    return bool(changed)
