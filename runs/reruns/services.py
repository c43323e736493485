"""Rerun batches: create one from a selection, cancel it, retry its failures, and close the loop."""

from __future__ import annotations

import logging
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fleetui.common.models import watchdog_interval
from fleetui.common.roles import real_user
from runs.fleet.audit import audit_event_record
from runs.fleet.models import Attempt, Migration, Phase
from runs.imports.services import import_run_enqueue
from runs.reruns.models import ACTIVE_STATES, RerunBatch, RerunItem, RerunState
from runs.reruns.selection import RerunRefused, prompt_revision_ensure, rerun_selection_resolve

logger = logging.getLogger(__name__)

__all__ = [
    "RerunRefused",
    "rerun_batch_create",
    "rerun_batch_cancel",
    "rerun_batch_retry_failed",
    "rerun_batch_finish_if_done",
    "rerun_results_link",
    "rerun_items_enqueue",
    "task_id_for",
]


def task_id_for(item_id: int, tries: int) -> str:
    """The Celery task id of an item's next try: known in advance, so it can be revoked."""
    return f"rerun-{item_id}-{tries + 1}"


def rerun_items_enqueue(*, items: list[tuple[int, int]]) -> None:
    """Send one task per (item id, tries so far), through one broker connection."""
    from runs.reruns.tasks import rerun_item_task

    if not items:
        return
    with rerun_item_task.app.producer_or_acquire() as producer:
        for item_id, tries in items:
            rerun_item_task.apply_async((item_id,), task_id=task_id_for(item_id, tries), producer=producer)


def _enqueue_on_commit(items: list[tuple[int, int]]) -> None:
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
) -> RerunBatch:
    """Create a batch with one queued item per selected repository; their tasks go out on commit.

    Raises RerunRefused with a reason when the selection is empty or larger than RERUN_MAX_BATCH.
    """
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
        batch = RerunBatch.objects.create(
            migration=migration,
            prompt_revision=revision,
            requested_by=author,
            requested_by_name=author.get_username() if author else "system",
            runner=runner or settings.FLEETUI_RUNNER,
            source_cluster_id=cluster_id,
            include_pre_existing=include_pre_existing,
            skipped=selection.skipped,
        )
        items = RerunItem.objects.bulk_create(
            RerunItem(
                batch=batch,
                migration=migration,
                repository_id=target.repository_id,
                source_attempt_id=target.latest_attempt_id,
                source_cluster_id=selection.source_clusters.get(target.repository_id),
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
            },
        )
        _enqueue_on_commit([(item.pk, 0) for item in items])
        _watchdog_on_commit()
    return batch


def rerun_batch_cancel(*, batch: RerunBatch, user) -> int:
    """Cancel every item not yet dispatched and revoke its task; runs already started finish."""
    now = timezone.now()
    with transaction.atomic():
        pending = list(batch.items.filter(state=RerunState.QUEUED).values_list("pk", "tries"))
        cancelled = batch.items.filter(state=RerunState.QUEUED).update(
            state=RerunState.CANCELLED, finished_at=now, updated_at=now, error="cancelled before it was dispatched"
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
    """Queue the batch's failed items again, each for a new dispatch try."""
    with transaction.atomic():
        Migration.objects.select_for_update().filter(pk=batch.migration_id).first()
        failed = batch.items.filter(state=RerunState.FAILED)
        # A repository queued again elsewhere since is not queued twice.
        busy = RerunItem.objects.filter(migration_id=batch.migration_id, state__in=ACTIVE_STATES).values("repository")
        rows = list(failed.exclude(repository__in=busy).values_list("pk", "tries"))
        RerunItem.objects.filter(pk__in=[pk for pk, _ in rows]).update(
            state=RerunState.QUEUED,
            error="",
            exit_code=None,
            finished_at=None,
            started=False,
            updated_at=timezone.now(),
        )
        if rows:
            RerunBatch.objects.filter(pk=batch.pk).update(finished_at=None, cancelled_at=None)
        audit_event_record(
            actor=user, verb="rerun.retried", target=batch, migration=batch.migration, data={"items": len(rows)}
        )
        _enqueue_on_commit(rows)
        if rows:
            _watchdog_on_commit()
    return len(rows)


def rerun_batch_finish_if_done(*, batch_id: int) -> bool:
    """Mark the batch finished once no item is queued or running, and import the new traces once."""
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
    items = list(batch.items.filter(result_attempt__isnull=True).exclude(state=RerunState.CANCELLED))
    if not items:
        return 0
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


def unfinished_batches_exist() -> bool:
    return RerunBatch.objects.filter(finished_at__isnull=True).exists()
