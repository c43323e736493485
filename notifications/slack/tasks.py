"""Celery tasks of the Slack directory: sync it, retrying after Slack's Retry-After."""

from celery import shared_task

from notifications.slack.client import SlackRateLimitedError
from notifications.slack.directory import directory_sync_execute
from notifications.slack.models import DirectorySyncRun

DEFAULT_RETRY_SECONDS = 30


@shared_task(
    name="notifications.tasks.slack_directory_sync_task", bind=True, acks_late=True, ignore_result=True, max_retries=5
)
def slack_directory_sync_task(self, run_id: int | None = None) -> None:
    """Sync the Slack channel directory (beat, or a queued "Sync now"); a 429 retries after Slack's Retry-After."""

    run = DirectorySyncRun.objects.filter(pk=run_id).first() if run_id else None
    try:
        directory_sync_execute(run=run)
    except SlackRateLimitedError as exc:
        if run is None:
            run = DirectorySyncRun.objects.order_by("-pk").first()
        raise self.retry(
            args=[run.pk if run else None], countdown=exc.retry_after or DEFAULT_RETRY_SECONDS, exc=exc
        ) from exc
