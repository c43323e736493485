"""Celery tasks of team inboxes: post one claimed digest, follow-up or escalation; the periodic round."""

import logging

from celery import shared_task

from notifications.slack.client import SlackRateLimitedError
from notifications.slack.tasks import DEFAULT_RETRY_SECONDS
from notifications.teams.digests import team_digest_deliver, team_digest_followup_deliver
from notifications.teams.escalations import team_escalation_deliver
from notifications.teams.services import team_inbox_round

logger = logging.getLogger(__name__)

# Each post is claimed (delivery_started_at) before Slack is called, so a task delivered twice posts once;
# only a 429 (nothing posted) is retried.
RETRYING = {"bind": True, "acks_late": True, "ignore_result": True, "max_retries": 5}


def _retry_later(task, exc: SlackRateLimitedError):
    return task.retry(countdown=(exc.retry_after or DEFAULT_RETRY_SECONDS), exc=exc)


@shared_task(name="notifications.tasks.team_digest_send_task", **RETRYING)
def team_digest_send_task(self, digest_id: int) -> None:
    """Post the team's claimed digest of the day."""
    try:
        team_digest_deliver(digest_id=digest_id)
    except SlackRateLimitedError as exc:
        raise _retry_later(self, exc) from exc


@shared_task(name="notifications.tasks.team_digest_followup_task", **RETRYING)
def team_digest_followup_task(self, followup_id: int) -> None:
    """Reply in the day's digest thread with what changed."""
    try:
        team_digest_followup_deliver(followup_id=followup_id)
    except SlackRateLimitedError as exc:
        raise _retry_later(self, exc) from exc


@shared_task(name="notifications.tasks.team_escalation_send_task", **RETRYING)
def team_escalation_send_task(self, escalation_id: int) -> None:
    """Post one claimed escalation of stale pull requests."""
    try:
        team_escalation_deliver(escalation_id=escalation_id)
    except SlackRateLimitedError as exc:
        raise _retry_later(self, exc) from exc


@shared_task(name="notifications.tasks.team_inbox_round_task", acks_late=True, ignore_result=True)
def team_inbox_round_task() -> None:
    """The periodic round: digests, follow-ups and escalations (idempotent: every send is claimed first)."""
    counts = team_inbox_round()
    if any(counts.values()):
        logger.info("team inbox round queued %s", counts)
