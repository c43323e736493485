"""Celery tasks of nudges: deliver one claimed nudge; take back sends whose worker is gone."""

import logging

from celery import shared_task

from notifications.nudges.models import Nudge
from notifications.nudges.recovery import nudge_deliveries_recover
from notifications.nudges.sending import nudge_deliver
from notifications.slack.client import SlackRateLimitedError
from notifications.slack.tasks import DEFAULT_RETRY_SECONDS

logger = logging.getLogger(__name__)


@shared_task(name="notifications.tasks.nudge_send_task", bind=True, acks_late=True, ignore_result=True, max_retries=5)
def nudge_send_task(self, nudge_id: int) -> None:
    """Deliver one claimed nudge; only a 429 (nothing posted) is retried automatically."""

    try:
        nudge_deliver(nudge_id=nudge_id)
    except SlackRateLimitedError as exc:
        if self.request.retries >= self.max_retries:
            # Slack never accepted the message: hand it back to the owner rather than leave it "sending".
            Nudge.objects.filter(pk=nudge_id, status=Nudge.Status.SENDING).update(
                status=Nudge.Status.FAILED, error="Slack kept answering 429 (rate limited); nothing was posted"
            )
            return
        raise self.retry(countdown=exc.retry_after or DEFAULT_RETRY_SECONDS, exc=exc) from exc


@shared_task(name="notifications.tasks.nudge_deliveries_recover_task", acks_late=True, ignore_result=True)
def nudge_deliveries_recover_task() -> None:
    """The periodic watchdog of nudge sends (idempotent: each stale send is taken back once)."""
    recovered = nudge_deliveries_recover()
    if recovered:
        logger.warning("nudge sends taken back from gone workers: %s", recovered)
