"""Taking back rerun items whose worker is gone, and sending again what a stopped worker took with it.

A worker dispatching an item beats for it (see `fleetui.common.models.Liveness`). An item in flight
whose heartbeat is older than FLEETUI_HEARTBEAT_TIMEOUT is taken back by one conditional UPDATE,
so two watchdogs never both take it, and a live worker's item is never taken:

- a local command that had started is not started again (its result went with the worker): the
  item fails with that reason, for a person to retry;
- otherwise the item is queued again: for backends that name a run in advance (HTTP, Kubernetes)
  with the same try's key, so the new dispatch follows the run already made;
- on its RECOVERY_LIMIT-th recovery the item fails, for a person to look at.

Clearing the claim token fences the original: if it was only slow, nothing it writes lands.
"""

from __future__ import annotations

import logging

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from fleetui.common.models import Recovered
from runs.reruns.models import IN_FLIGHT_STATES, RerunBatch, RerunItem, RerunState
from runs.reruns.services import rerun_batch_finish_if_done, rerun_items_enqueue

logger = logging.getLogger(__name__)

# Backends whose dispatch is idempotent per key: calling again follows the run already made.
IDEMPOTENT_RUNNERS = frozenset({"http", "kubernetes"})

STARTED_LOST = (
    "the worker stopped while this run was in progress; its result is unknown and it was not "
    "started a second time (retry to run it again)"
)


def _given_up(reason: str) -> dict:
    now = timezone.now()
    return {"error": reason, "finished_at": now, "updated_at": now}


def rerun_items_take_back(*, items: QuerySet, cutoff=None) -> Recovered:
    """Take back, exactly once each, the items of `items` in flight whose worker stopped beating."""
    # Handed to the runner's callback (no heartbeat, but a claim): no worker holds it, nothing to take back.
    items = items.exclude(Q(heartbeat_at__isnull=True) & ~Q(claim_token=""))
    idempotent = Q(batch__runner__in=IDEMPOTENT_RUNNERS)
    limit = RerunItem.RECOVERY_LIMIT
    needs_person = _given_up(
        f"its worker stopped {limit} times while dispatching it; it needs a person (retry to run it again)"
    )
    now = timezone.now()
    sent_again = {"started": False, "updated_at": now, "error": "its worker stopped; sent again"}
    lost = RerunItem.recover_stale(
        cutoff=cutoff,
        queryset=items.filter(~idempotent, started=True),
        give_up=True,
        give_up_fields=_given_up(STARTED_LOST),
    )
    fresh = RerunItem.recover_stale(
        cutoff=cutoff,
        queryset=items.filter(~idempotent, started=False),
        retry_fields=sent_again,
        give_up_fields=needs_person,
    )
    # The same try again: its key names the run the backend already has.
    follow = RerunItem.recover_stale(
        cutoff=cutoff,
        queryset=items.filter(idempotent),
        retry_fields={**sent_again, "tries": F("tries") - 1},
        give_up_fields=needs_person,
    )
    return Recovered(retried=fresh.retried + follow.retried, given_up=lost.given_up + fresh.given_up + follow.given_up)


def rerun_items_recover(*, stall_after: float) -> int:
    """The watchdog's pass: take back items whose worker is gone, and send again what a stopped worker took with it.

    Besides the items in flight, the queued items of a batch where nothing moved for `stall_after`
    seconds are sent again (their messages may have gone with a worker); their claims make duplicates harmless.
    """
    now = timezone.now()
    unfinished = RerunBatch.objects.filter(finished_at__isnull=True)
    taken = rerun_items_take_back(items=RerunItem.objects.filter(batch__in=unfinished))
    if taken:
        logger.warning(
            "took back %d rerun items whose worker stopped (%d sent again, %d need a person)",
            len(taken),
            len(taken.retried),
            len(taken.given_up),
        )
    resend = list(RerunItem.objects.filter(pk__in=taken.retried).values_list("pk", "tries"))
    for batch_id in unfinished.values_list("pk", flat=True):
        items = RerunItem.objects.filter(batch_id=batch_id)
        if items.filter(state__in=IN_FLIGHT_STATES).exists():
            continue
        queued = items.filter(state=RerunState.QUEUED).exclude(pk__in=taken.retried)
        last_move = items.order_by("-updated_at").values_list("updated_at", flat=True).first()
        if last_move and (now - last_move).total_seconds() >= stall_after:
            resend += list(queued.values_list("pk", "tries"))
            RerunItem.objects.filter(pk__in=queued.values("pk")).update(updated_at=now)
        if not items.filter(state=RerunState.QUEUED).exists():
            rerun_batch_finish_if_done(batch_id=batch_id)
    rerun_items_enqueue(items=resend)
    return len(resend) + len(taken.given_up)
