"""Celery tasks of the reviewer gate: send a reviewer's decision to GitHub, retried on transient errors only."""

from celery import shared_task

from fleetui.common.errors import RateLimitedError
from fleetui.common.tasks import MAX_RETRIES, TRANSIENT_RETRY, rate_limited_retry
from runs.reviews import services


@shared_task(name="runs.tasks.review_decision_push_task", **TRANSIENT_RETRY)
def review_decision_push_task(self, decision_id: int) -> None:
    """Sends a reviewer's decision to GitHub (ready for review, or a comment)."""
    try:
        services.review_decision_push(decision_id=decision_id, final=self.request.retries >= MAX_RETRIES)
    except RateLimitedError as exc:  # only before the last try: the last one records the failure itself
        raise rate_limited_retry(self, exc) from exc
