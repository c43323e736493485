"""Celery tasks for pull-request state from GitHub: thin, idempotent, one service each.

Each task claims its row (a conditional UPDATE) before working, so a redelivered message does nothing twice.
Only transient API errors are retried, with exponential backoff and jitter; a rate limit waits the advised time.
"""

import logging

from celery import shared_task

from fleetui.common.errors import RateLimitedError, TransientAPIError
from fleetui.common.tasks import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    MAX_RETRIES,
    TRANSIENT_RETRY,
    rate_limited_retry,
)
from runs.github import deliveries, sync

logger = logging.getLogger(__name__)

RATE_LIMIT_DEFAULT_WAIT = 60.0


# Task names are pinned: queued messages and beat schedules name them, whatever module defines them.
@shared_task(name="runs.tasks.pull_requests_refresh_task", acks_late=True, ignore_result=True)
def pull_requests_refresh_task() -> None:
    """The periodic refresh of open and never-read pull requests; skipped while another sync runs."""
    sync.pull_request_sync_enqueue(trigger="schedule")


@shared_task(name="runs.tasks.pull_requests_sync_task", acks_late=True, ignore_result=True)
def pull_requests_sync_task(run_id: int) -> None:
    """Claims a sync run and hands each of its chunks to a worker."""
    for chunk_id in sync.pull_request_sync_start(run_id=run_id):
        pull_requests_sync_chunk_task.delay(chunk_id)


@shared_task(name="runs.tasks.pull_requests_sync_chunk_task", **TRANSIENT_RETRY)
def pull_requests_sync_chunk_task(self, chunk_id: int) -> None:
    """Refreshes one chunk of a sync run; resumes where it stopped after a retry."""
    try:
        sync.pull_request_sync_chunk_execute(chunk_id=chunk_id)
    except TransientAPIError as exc:
        if self.request.retries >= MAX_RETRIES:
            logger.warning("pull request sync chunk %s gave up: %s", chunk_id, exc)
            sync.pull_request_sync_chunk_abandon(chunk_id=chunk_id, reason=f"gave up after retries: {exc}")
            return
        if isinstance(exc, RateLimitedError):
            raise rate_limited_retry(self, exc) from exc
        raise


@shared_task(name="runs.tasks.webhook_delivery_process_task", **TRANSIENT_RETRY)
def webhook_delivery_process_task(self, delivery_pk: int) -> None:
    """Applies a stored GitHub webhook delivery."""
    # The longest the retry may wait (Celery's backoff with full jitter), so the watchdog leaves it be meanwhile.
    within = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**self.request.retries)
    try:
        deliveries.webhook_delivery_process(delivery_pk=delivery_pk, retry_within=within)
    except RateLimitedError as exc:
        wait = exc.retry_after if exc.retry_after is not None else RATE_LIMIT_DEFAULT_WAIT
        deliveries.webhook_delivery_retry_due(delivery_pk=delivery_pk, within=wait + max(1.0, wait / 10))
        raise rate_limited_retry(self, exc, default_wait=RATE_LIMIT_DEFAULT_WAIT) from exc


@shared_task(name="runs.tasks.webhook_deliveries_recover_task", acks_late=True, ignore_result=True)
def webhook_deliveries_recover_task() -> None:
    """The periodic watchdog of webhook deliveries (idempotent: each stale delivery is queued again once)."""
    recovered = deliveries.webhook_deliveries_recover()
    if recovered:
        logger.warning("webhook deliveries taken back from gone workers: %s", recovered)


@shared_task(name="runs.tasks.webhook_deliveries_prune_task", acks_late=True, ignore_result=True)
def webhook_deliveries_prune_task() -> None:
    """Forgets webhook deliveries old enough that GitHub no longer redelivers them (idempotent)."""
    deliveries.webhook_deliveries_prune()
