"""Celery tasks for pull-request state and the reviewer gate: thin, idempotent, one service each.

Each task claims its row (a conditional UPDATE) before working, so a redelivered message does nothing twice.
Only transient API errors are retried, with exponential backoff and jitter; a rate limit waits the advised time.
"""

import logging
import random

from celery import shared_task

from runs.clients.errors import RateLimitedError, TransientAPIError
from runs.services import pull_requests as sync
from runs.services import reviews, webhooks

logger = logging.getLogger(__name__)

__all__ = [
    "pull_requests_refresh_task",
    "pull_requests_sync_task",
    "pull_requests_sync_chunk_task",
    "webhook_delivery_process_task",
    "webhook_deliveries_prune_task",
    "review_decision_push_task",
]

MAX_RETRIES = 6
RETRY_OPTIONS = {
    "bind": True,
    "acks_late": True,
    "ignore_result": True,
    "autoretry_for": (TransientAPIError,),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": MAX_RETRIES,
}


def _rate_limited_retry(task, exc: RateLimitedError):
    """Retry after the wait GitHub advised (plus jitter so workers do not return in lockstep)."""
    wait = exc.retry_after if exc.retry_after is not None else 60.0
    countdown = wait + random.uniform(0, max(1.0, wait / 10))
    return task.retry(exc=exc, countdown=countdown)


@shared_task(name="runs.tasks.pull_requests_refresh_task", acks_late=True, ignore_result=True)
def pull_requests_refresh_task() -> None:
    """The periodic refresh of open and never-read pull requests; skipped while another sync runs."""
    sync.pull_request_sync_enqueue(trigger="schedule")


@shared_task(name="runs.tasks.pull_requests_sync_task", acks_late=True, ignore_result=True)
def pull_requests_sync_task(run_id: int) -> None:
    """Claims a sync run and hands each of its chunks to a worker."""
    for chunk_id in sync.pull_request_sync_start(run_id=run_id):
        pull_requests_sync_chunk_task.delay(chunk_id)


@shared_task(name="runs.tasks.pull_requests_sync_chunk_task", **RETRY_OPTIONS)
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
            raise _rate_limited_retry(self, exc) from exc
        raise


@shared_task(name="runs.tasks.webhook_delivery_process_task", **RETRY_OPTIONS)
def webhook_delivery_process_task(self, delivery_pk: int) -> None:
    """Applies a stored GitHub webhook delivery."""
    try:
        webhooks.webhook_delivery_process(delivery_pk=delivery_pk)
    except RateLimitedError as exc:
        raise _rate_limited_retry(self, exc) from exc


@shared_task(name="runs.tasks.review_decision_push_task", **RETRY_OPTIONS)
def review_decision_push_task(self, decision_id: int) -> None:
    """Sends a reviewer's decision to GitHub (ready for review, or a comment)."""
    try:
        reviews.review_decision_push(decision_id=decision_id, final=self.request.retries >= MAX_RETRIES)
    except RateLimitedError as exc:  # only before the last try: the last one records the failure itself
        raise _rate_limited_retry(self, exc) from exc


@shared_task(name="runs.tasks.webhook_deliveries_prune_task", acks_late=True, ignore_result=True)
def webhook_deliveries_prune_task() -> None:
    """Forgets webhook deliveries old enough that GitHub no longer redelivers them (idempotent)."""
    webhooks.webhook_deliveries_prune()
