"""Celery tasks of the reviewer gate: send a reviewer's decision to GitHub, retried on transient errors only."""

import logging

from celery import shared_task

from fleetui.common.errors import RateLimitedError
from fleetui.common.tasks import (
    BACKOFF_BASE_SECONDS,
    BACKOFF_CAP_SECONDS,
    MAX_RETRIES,
    TRANSIENT_RETRY,
    rate_limited_retry,
)
from runs.reviews import services

logger = logging.getLogger(__name__)

RATE_LIMIT_DEFAULT_WAIT = 60.0


@shared_task(name="runs.tasks.review_decision_push_task", **TRANSIENT_RETRY)
def review_decision_push_task(self, decision_id: int) -> None:
    """Sends a reviewer's decision to GitHub (ready for review, or a comment)."""
    retries = self.request.retries
    # The longest the retry may wait: Celery's backoff with full jitter, or the advised rate-limit wait plus jitter.
    within = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**retries)
    try:
        services.review_decision_push(decision_id=decision_id, final=retries >= MAX_RETRIES, retry_within=within)
    except RateLimitedError as exc:  # only before the last try: the last one records the failure itself
        wait = exc.retry_after if exc.retry_after is not None else RATE_LIMIT_DEFAULT_WAIT
        services.review_decision_retry_due(decision_id=decision_id, within=wait + max(1.0, wait / 10))
        raise rate_limited_retry(self, exc, default_wait=RATE_LIMIT_DEFAULT_WAIT) from exc


@shared_task(name="runs.tasks.review_decisions_recover_task", acks_late=True, ignore_result=True)
def review_decisions_recover_task() -> None:
    """The periodic watchdog of decision pushes (idempotent: each stale push is queued again once)."""
    recovered = services.review_decisions_recover()
    if recovered:
        logger.warning("review decision pushes taken back from gone workers: %s", recovered)
