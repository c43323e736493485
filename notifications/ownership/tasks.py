"""Celery tasks of ownership: thin, calling one service each."""

import logging

from celery import shared_task

from notifications.ownership.services import catalog_load, ownership_resolve_all
from notifications.ownership.signals import ownership_resolved

logger = logging.getLogger(__name__)


@shared_task(name="notifications.tasks.ownership_resolve_task", acks_late=True, ignore_result=True)
def ownership_resolve_task() -> None:
    """Resolve every repository's owner; the Slack directory then re-decides each team's channel."""
    catalog = catalog_load()  # once: from Backstage it is a paged fetch of the whole catalog
    summary = ownership_resolve_all(catalog=catalog)
    ownership_resolved.send(sender=ownership_resolve_task, catalog=catalog)
    logger.info("ownership: %s", summary.by_source)
