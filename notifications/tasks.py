"""Celery tasks of the notifications app: thin, calling one service each."""

import logging

from celery import shared_task

from notifications.clients.slack import SlackRateLimitedError

logger = logging.getLogger(__name__)

DEFAULT_RETRY_SECONDS = 30


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=5)
def slack_directory_sync_task(self, run_id: int | None = None) -> None:
    """Sync the Slack channel directory (beat, or a queued "Sync now"); a 429 retries after Slack's Retry-After."""
    from notifications.models import DirectorySyncRun
    from notifications.services.directory import directory_sync_execute

    run = DirectorySyncRun.objects.filter(pk=run_id).first() if run_id else None
    try:
        directory_sync_execute(run=run)
    except SlackRateLimitedError as exc:
        if run is None:
            run = DirectorySyncRun.objects.order_by("-pk").first()
        raise self.retry(
            args=[run.pk if run else None], countdown=exc.retry_after or DEFAULT_RETRY_SECONDS, exc=exc
        ) from exc


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=5)
def nudge_send_task(self, nudge_id: int) -> None:
    """Deliver one claimed nudge; only a 429 (nothing posted) is retried automatically."""
    from notifications.services.sending import nudge_deliver

    try:
        nudge_deliver(nudge_id=nudge_id)
    except SlackRateLimitedError as exc:
        if self.request.retries >= self.max_retries:
            from notifications.models import Nudge

            # Slack never accepted the message: hand it back to the owner rather than leave it "sending".
            Nudge.objects.filter(pk=nudge_id, status=Nudge.Status.SENDING).update(
                status=Nudge.Status.FAILED, error="Slack kept answering 429 (rate limited); nothing was posted"
            )
            return
        raise self.retry(countdown=exc.retry_after or DEFAULT_RETRY_SECONDS, exc=exc) from exc


@shared_task(acks_late=True, ignore_result=True)
def ownership_resolve_task() -> None:
    """Resolve every repository's owner, then each team's channel."""
    from notifications.services.directory import team_channels_refresh
    from notifications.services.ownership import catalog_load, ownership_resolve_all

    catalog = catalog_load()  # once: from Backstage it is a paged fetch of the whole catalog
    summary = ownership_resolve_all(catalog=catalog)
    team_channels_refresh(catalog=catalog)
    logger.info("ownership: %s", summary.by_source)
