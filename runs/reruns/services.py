"""Rerun batches: create one from a selection, cancel it, retry its failures, and close the loop."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from fleetui.common.models import watchdog_interval
from fleetui.common.roles import real_user
from runs.fleet.audit import audit_event_record
from runs.fleet.models import Attempt, Migration, Phase
from runs.imports.services import import_run_enqueue
from runs.reruns import outcomes
from runs.reruns.canary_rules import CanarySpec, canary_size_for
from runs.reruns.models import (
    ACTIVE_STATES,
    RESERVED_STATES,
    UNSETTLED_OUTCOMES,
    RerunBatch,
    RerunItem,
    RerunKind,
    RerunOutcome,
    RerunState,
)
from runs.reruns.selection import RerunRefused, prompt_revision_ensure, rerun_selection_resolve, reserved_items

logger = logging.getLogger(__name__)

__all__ = [
    "RerunRefused",
    "rerun_batch_create",
    "rerun_batch_cancel",
    "rerun_batch_retry_failed",
    "rerun_batch_finish_if_done",
    "rerun_results_link",
    "rerun_outcomes_update",
    "rerun_items_enqueue",
    "task_id_for",
]


def task_id_for(item_id: int, tries: int) -> str:
    """The Celery task id of an item's next try when it goes out on its own: known in advance, so it can be revoked."""
    return f"rerun-{item_id}-{tries + 1}"


def rerun_items_enqueue(*, items: list[tuple[int, int]], countdown: float | None = None) -> None:
    """Send the tasks of the given (item id, tries so far), through one broker connection.

    Items go out in chunks (runs.reruns.chunks): one message per chunk, whose task claims and dispatches its
    items in turn; an item alone in its chunk goes out as its own task, with an id known
    in advance. Sending an item twice is harmless (its claim is conditional), so a chunk redelivered after a
    worker died, or sent again by the watchdog, dispatches nothing a second time.
    """
    from runs.reruns.chunks import dispatch_chunks
    from runs.reruns.tasks import rerun_item_task, rerun_items_dispatch_task

    if not items:
        return
    with rerun_item_task.app.producer_or_acquire() as producer:
        for chunk in dispatch_chunks(items):
            if len(chunk) == 1:
                item_id, tries = chunk[0]
                rerun_item_task.apply_async(
                    (item_id,), task_id=task_id_for(item_id, tries), producer=producer, countdown=countdown
                )
            else:
                ids = [item_id for item_id, _ in chunk]
                rerun_items_dispatch_task.apply_async((ids,), producer=producer, countdown=countdown)


def _enqueue_on_commit(items: list[tuple[int, int]], countdown: float | None = None) -> None:
    if countdown:
        transaction.on_commit(partial(rerun_items_enqueue, items=items, countdown=countdown))
    else:
        transaction.on_commit(partial(rerun_items_enqueue, items=items))


def _watchdog_on_commit() -> None:
    from runs.reruns.tasks import reruns_watchdog_task

    transaction.on_commit(partial(reruns_watchdog_task.apply_async, countdown=watchdog_interval()))


def rerun_batch_create(
    *,
    migration: Migration,
    user,
    repos: list[str] | None = None,
    cluster_id: int | None = None,
    exclude: list[str] | None = None,
    include_pre_existing: bool = False,
    prompt: str | None = None,
    runner: str | None = None,
    canary: CanarySpec | None = None,
    kind: str = RerunKind.RERUN,
    countdown: float | None = None,
) -> RerunBatch:
    """Create a batch with one queued item per selected repository; their tasks go out on commit.

    With a `canary`, only the canary's items are queued; the others are held until it expands (runs.reruns.canary).
    `countdown` delays the items' tasks (an infrastructure retry's backoff, runs.reruns.infra_retry).
    Raises RerunRefused with a reason when the selection is empty or larger than RERUN_MAX_BATCH.
    """
    from runs.reruns.canary import (
        canary_batch_fields,
        canary_item_fields,
        canary_repositories_choose,
        canary_started_record,
    )

    with transaction.atomic():
        # One batch creation per migration at a time, so two requests cannot enqueue a repository twice.
        Migration.objects.select_for_update().filter(pk=migration.pk).first()
        selection = rerun_selection_resolve(
            migration=migration,
            repos=repos,
            cluster_id=cluster_id,
            exclude=exclude,
            include_pre_existing=include_pre_existing,
        )
        revision, created = prompt_revision_ensure(migration=migration, text=prompt, user=user)
        author = real_user(user)
        first: set[int] | None = None
        if canary is not None:
            size = canary_size_for(len(selection.targets), canary)
            first = canary_repositories_choose(
                targets=selection.targets, source_clusters=selection.source_clusters, size=size
            )
        batch = RerunBatch.objects.create(
            migration=migration,
            prompt_revision=revision,
            requested_by=author,
            requested_by_name=author.get_username() if author else "system",
            runner=runner or settings.FLEETUI_RUNNER,
            source_cluster_id=cluster_id,
            include_pre_existing=include_pre_existing,
            skipped=selection.skipped,
            kind=kind,
            **(canary_batch_fields(canary, len(first)) if canary is not None and first is not None else {}),
        )
        items = RerunItem.objects.bulk_create(
            RerunItem(
                batch=batch,
                migration=migration,
                repository_id=target.repository_id,
                source_attempt_id=target.latest_attempt_id,
                source_cluster_id=selection.source_clusters.get(target.repository_id),
                **canary_item_fields(first, target.repository_id),
            )
            for target in selection.targets
        )
        if created:
            audit_event_record(
                actor=user,
                verb="prompt.revised",
                target=revision,
                migration=migration,
                data={"number": revision.number, "hash": revision.text_hash},
            )
        audit_event_record(
            actor=user,
            verb="rerun.requested",
            target=batch,
            migration=migration,
            data={
                "items": len(items),
                "skipped": len(selection.skipped),
                "cluster": cluster_id,
                "prompt_revision": revision.number if revision else None,
                "include_pre_existing": include_pre_existing,
                "runner": batch.runner,
                "kind": kind,
            },
        )
        if canary is not None:
            canary_started_record(batch=batch, user=user, spec=canary, held=len(items) - len(first or ()))
        _enqueue_on_commit([(item.pk, 0) for item in items if item.state == RerunState.QUEUED], countdown)
        if countdown:
            # Seen by the watchdog as moving until the backoff is over: it does not send them early.
            batch.items.update(updated_at=timezone.now() + timedelta(seconds=countdown))
        _watchdog_on_commit()
    return batch


def rerun_batch_cancel(*, batch: RerunBatch, user) -> int:
    """Cancel every item not yet dispatched (held ones too) and revoke its task; runs already started finish."""
    now = timezone.now()
    with transaction.atomic():
        pending = list(batch.items.filter(state=RerunState.QUEUED).values_list("pk", "tries"))
        cancelled = batch.items.filter(state=RerunState.QUEUED).update(
            state=RerunState.CANCELLED, finished_at=now, updated_at=now, error="cancelled before it was dispatched"
        )
        cancelled += batch.items.filter(state=RerunState.HELD).update(
            state=RerunState.CANCELLED,
            outcome=RerunOutcome.CANCELLED,
            finished_at=now,
            updated_at=now,
            error="cancelled while held for the canary",
        )
        RerunBatch.objects.filter(pk=batch.pk, cancelled_at__isnull=True).update(cancelled_at=now)
        audit_event_record(
            actor=user, verb="rerun.cancelled", target=batch, migration=batch.migration, data={"cancelled": cancelled}
        )
        transaction.on_commit(partial(_revoke, [task_id_for(pk, tries) for pk, tries in pending]))
        transaction.on_commit(partial(rerun_batch_finish_if_done, batch_id=batch.pk))
    return cancelled


def _revoke(task_ids: list[str]) -> None:
    from runs.reruns.tasks import rerun_item_task

    if not task_ids:
        return
    # Best effort: a task that runs anyway finds its item cancelled and does nothing.
    try:
        rerun_item_task.app.control.revoke(task_ids)
    except Exception:
        logger.warning("could not revoke %d rerun tasks; they will find their items cancelled", len(task_ids))


def rerun_batch_retry_failed(*, batch: RerunBatch, user) -> int:
    """Queue the batch's failed items again, each for a new dispatch try; a paused canary is judged again."""
    from runs.reruns.canary import rerun_canary_reopen

    with transaction.atomic():
        Migration.objects.select_for_update().filter(pk=batch.migration_id).first()
        failed = batch.items.filter(state=RerunState.FAILED)
        # A repository queued again elsewhere since (or held for a running canary) is not queued twice.
        busy = RerunItem.objects.filter(reserved_items(), migration_id=batch.migration_id).values("repository")
        rows = list(failed.exclude(repository__in=busy).values_list("pk", "tries"))
        RerunItem.objects.filter(pk__in=[pk for pk, _ in rows]).update(
            state=RerunState.QUEUED,
            outcome=RerunOutcome.PENDING,
            error="",
            exit_code=None,
            finished_at=None,
            started=False,
            updated_at=timezone.now(),
        )
        if rows:
            RerunBatch.objects.filter(pk=batch.pk).update(finished_at=None, cancelled_at=None)
            rerun_canary_reopen(batch=batch, item_ids=[pk for pk, _ in rows])
        audit_event_record(
            actor=user, verb="rerun.retried", target=batch, migration=batch.migration, data={"items": len(rows)}
        )
        _enqueue_on_commit(rows)
        if rows:
            _watchdog_on_commit()
    return len(rows)


def rerun_batch_finish_if_done(*, batch_id: int) -> bool:
    """Mark the batch finished once no item is queued or running, and import the new traces once."""
    # Items the runner has finished with: failed or cancelled is final, succeeded waits for its new attempt.
    # Only those still marked pending are judged, not the whole batch: each item's end stays O(1).
    rerun_outcomes_update(
        items=RerunItem.objects.filter(batch_id=batch_id, outcome=RerunOutcome.PENDING).exclude(state__in=ACTIVE_STATES)
    )
    if RerunItem.objects.filter(batch_id=batch_id, state__in=ACTIVE_STATES).exists():
        return False
    with transaction.atomic():
        won = RerunBatch.objects.filter(pk=batch_id, finished_at__isnull=True).update(finished_at=timezone.now())
        if not won:
            return False
        ran = RerunItem.objects.filter(batch_id=batch_id, state__in=(RerunState.SUCCEEDED, RerunState.FAILED))
        if ran.filter(started=True).exists() or ran.filter(state=RerunState.SUCCEEDED).exists():
            from runs.reruns.tasks import rerun_results_link_task

            run = import_run_enqueue(trigger="rerun")
            RerunBatch.objects.filter(pk=batch_id).update(import_run=run)
            transaction.on_commit(partial(rerun_results_link_task.apply_async, (batch_id,), countdown=5))
    return True


def rerun_results_link(*, batch: RerunBatch) -> int:
    """Point each item at its repository's newest attempt imported since the batch started."""
    # Items yet to run (held, or queued again) have no new attempt to link.
    items = list(
        batch.items.filter(result_attempt__isnull=True).exclude(state__in=(RerunState.CANCELLED, *RESERVED_STATES))
    )
    linked = 0
    if items:
        linked = _link_newest(batch, items)
    # The import has run: an item still without an attempt has none to wait for.
    judge_again = (*UNSETTLED_OUTCOMES, RerunOutcome.NO_ATTEMPT)
    rerun_outcomes_update(items=batch.items.filter(outcome__in=judge_again), looked_for_attempt=True)
    return linked


def _link_newest(batch: RerunBatch, items: list[RerunItem]) -> int:
    newest: dict[int, Attempt] = {}
    attempts = (
        Attempt.objects.filter(
            migration_id=batch.migration_id,
            phase=Phase.MIGRATION,
            repository_id__in=[i.repository_id for i in items],
            imported_at__gte=batch.created_at,
        )
        .only("pk", "repository_id", "number", "ended_at")
        .order_by("repository_id", "number", "ended_at", "pk")
    )
    for attempt in attempts:
        newest[attempt.repository_id] = attempt
    linked = 0
    for item in items:
        attempt = newest.get(item.repository_id)
        if attempt is not None and attempt.pk != item.source_attempt_id:
            RerunItem.objects.filter(pk=item.pk).update(result_attempt=attempt, updated_at=timezone.now())
            linked += 1
    return linked


def rerun_outcomes_update(*, items, looked_for_attempt: bool = False) -> int:
    """Set the outcome of the given items from their runner state, new attempt and its cluster; returns changes.

    Settled outcomes (fixed, still failing, ...) are kept: pass only the items to judge again. Each write is
    conditional on the outcome read, so two callers at once cannot undo each other.
    """
    from triage.clusters.models import ClusteringRun
    from triage.clusters.selectors import attempt_clusters

    rows = list(
        items.select_related("result_attempt").only(
            "pk",
            "batch_id",
            "migration_id",
            "state",
            "outcome",
            "source_cluster_id",
            "source_attempt_id",
            "result_attempt__outcome",
            "result_attempt__imported_at",
        )
    )
    if not rows:
        return 0
    # Clusters matter only once a failing new attempt is linked: a runner that just finished needs no lookup.
    judged = [r for r in rows if r.result_attempt_id]
    attempt_ids = {r.result_attempt_id for r in judged}
    attempt_ids |= {r.source_attempt_id for r in judged if r.source_attempt_id and r.source_cluster_id is None}
    cluster_of = attempt_clusters(attempt_ids=list(attempt_ids)) if attempt_ids else {}
    last_clustered = (
        dict(
            ClusteringRun.objects.filter(
                migration_id__in={r.migration_id for r in judged}, status=ClusteringRun.Status.SUCCEEDED
            )
            .values_list("migration_id")
            .annotate(last=Max("started_at"))
            .values_list("migration_id", "last")
        )
        if judged
        else {}
    )
    # One conditional UPDATE per (outcome read, outcome judged), not one per item.
    moves: dict[tuple[str, str], list[RerunItem]] = {}
    for item in rows:
        result = item.result_attempt
        clustered_at = last_clustered.get(item.migration_id)
        imported_at = result.imported_at if result is not None else None
        value = outcomes.item_outcome(
            state=item.state,
            result_outcome=result.outcome if result is not None else None,
            source_cluster=item.source_cluster_id or cluster_of.get(item.source_attempt_id),
            result_cluster=cluster_of.get(item.result_attempt_id),
            clustered_since_import=bool(clustered_at and (imported_at is None or clustered_at >= imported_at)),
            looked_for_attempt=looked_for_attempt or item.outcome == RerunOutcome.NO_ATTEMPT,
        )
        if value != item.outcome:
            moves.setdefault((item.outcome, value), []).append(item)
    changed = 0
    moved_batches: set[int] = set()
    for (read, value), moved in moves.items():
        won = RerunItem.objects.filter(pk__in=[i.pk for i in moved], outcome=read).update(outcome=value)
        if won:
            changed += won
            moved_batches.update(i.batch_id for i in moved)
    if moved_batches:
        # Judged once these writes are committed, so the last of two workers settling a canary sees both.
        transaction.on_commit(partial(_canaries_evaluate, moved_batches))
    return changed


def _canaries_evaluate(batch_ids: set[int]) -> None:
    from runs.reruns.canary import rerun_canaries_evaluate

    rerun_canaries_evaluate(batch_ids=batch_ids)


def unfinished_batches_exist() -> bool:
    return RerunBatch.objects.filter(finished_at__isnull=True).exists()
