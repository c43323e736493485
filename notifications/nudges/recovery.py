"""Take back nudge sends whose worker is gone: deliver again what Slack cannot have, ask a person about the rest."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fleetui.common.models import Recovered
from notifications.nudges.models import Nudge

OUTCOME_UNKNOWN = (
    "The worker stopped while posting this nudge to Slack: the message may or may not be in the channel. "
    "Check the channel, then retry or cancel."
)
NEVER_DELIVERED = (
    "No worker delivered this nudge after several tries; nothing was posted. Retry when the workers are running."
)


def nudge_deliveries_recover(*, cutoff: datetime | None = None) -> Recovered:
    """Each sending nudge whose worker stopped beating, once: queued again when nothing can have been posted,
    failed with a note to check the channel when the post may have reached Slack."""
    # Here, not at the top: the tasks module imports this one.
    from notifications.nudges.tasks import nudge_send_task

    # A post began, or a delivery claimed before claims carried a token (it may have posted).
    maybe_posted = Q(post_started_at__isnull=False) | Q(delivery_started_at__isnull=False, claim_token="")
    unknown = Nudge.recover_stale(
        cutoff=cutoff,
        queryset=Nudge.objects.filter(maybe_posted),
        give_up=True,
        give_up_fields={"error": OUTCOME_UNKNOWN, "updated_at": timezone.now()},
    )
    # Queued and never taken, or taken but stopped before the post: Slack has nothing, so deliver it again.
    # A worker writes post_started_at together with a heartbeat, so a send that got that far is never here.
    lost = Nudge.recover_stale(
        cutoff=cutoff,
        queryset=Nudge.objects.exclude(maybe_posted),
        retry_fields={"delivery_started_at": None, "queued_at": timezone.now()},
        give_up_fields={"error": NEVER_DELIVERED, "updated_at": timezone.now()},
    )
    for pk in lost.retried:
        transaction.on_commit(partial(nudge_send_task.delay, pk))
    return Recovered(retried=lost.retried, given_up=unknown.given_up + lost.given_up)
