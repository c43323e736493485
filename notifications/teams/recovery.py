"""Take back team sends whose worker is gone, so a lost send neither blocks the day nor posts twice."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.teams.models import Delivery, TeamDigest, TeamDigestFollowUp, TeamEscalation

# A queued send no worker took within this long was lost with its message: it is queued again.
QUEUE_LOST_AFTER = timedelta(hours=1)


def team_sends_recover() -> dict[str, int]:
    """Sends held by a worker past the task's hard time limit fail for a person to check (Slack may have them);
    sends never taken by a worker are queued again (nothing was posted)."""
    from notifications.teams.tasks import team_digest_followup_task, team_digest_send_task, team_escalation_send_task

    now = timezone.now()
    held_too_long = now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    counts = {"failed": 0, "requeued": 0}
    for model, task in (
        (TeamDigest, team_digest_send_task),
        (TeamDigestFollowUp, team_digest_followup_task),
        (TeamEscalation, team_escalation_send_task),
    ):
        sending = model.objects.filter(status=Delivery.SENDING)
        counts["failed"] += sending.filter(delivery_started_at__lt=held_too_long).update(
            status=Delivery.FAILED,
            error="the worker sending it stopped; the message may have been posted: check the channel before retrying",
        )
        lost = list(
            sending.filter(delivery_started_at__isnull=True, created_at__lt=now - QUEUE_LOST_AFTER).values_list(
                "pk", flat=True
            )
        )
        for pk in lost:
            transaction.on_commit(partial(task.delay, pk))
        counts["requeued"] += len(lost)
    return counts
