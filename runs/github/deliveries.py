"""GitHub webhook deliveries: stored once per delivery id, applied by a task, pruned after a while."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fleetui.common.errors import PermanentAPIError, TransientAPIError
from fleetui.common.liveness import heartbeat
from fleetui.common.models import Recovered
from fleetui.common.text import parse_time
from runs.fleet.models import PullRequest
from runs.github.client import GitHubClient
from runs.github.models import WebhookDelivery
from runs.github.payloads import WebhookEvent
from runs.github.sync import github_client, pull_request_ci_refresh, pull_request_reviews_refresh

# GitHub redelivers within days; a month of delivery ids is ample to recognise a replay.
DELIVERY_RETENTION = timedelta(days=30)
GAVE_UP = "Workers kept stopping while this delivery was applied; the next sync refreshes the pull request."


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value.isoformat() if hasattr(value, "isoformat") else value


def webhook_delivery_store(
    *, delivery_id: str, event_name: str, parsed: WebhookEvent | None
) -> tuple[WebhookDelivery, bool]:
    """Stores a verified delivery once per delivery id and, when new and followed, queues its processing."""
    # Here, not at the top: the tasks module imports this one.
    from runs.github.tasks import webhook_delivery_process_task

    data = _plain(dataclasses.asdict(parsed)) if parsed is not None else {}
    with transaction.atomic():
        delivery, created = WebhookDelivery.objects.get_or_create(
            delivery_id=delivery_id[:100],
            defaults={
                "event": event_name[:60],
                "action": (parsed.action if parsed else "")[:60],
                "repository": f"{parsed.owner}/{parsed.repo}"[:300] if parsed else "",
                "data": data,
                "status": WebhookDelivery.Status.RECEIVED if parsed else WebhookDelivery.Status.IGNORED,
                "queued_at": timezone.now() if parsed else None,
            },
        )
        if created and parsed is not None:
            transaction.on_commit(partial(webhook_delivery_process_task.delay, delivery.pk))
    return delivery, created


def _pull_request_for(repository: str, number: int) -> PullRequest | None:
    if not repository or not number:
        return None
    # Rows the importer created carry only their URL until the first sync; match on its path (any GitHub host).
    matches = PullRequest.objects.filter(
        Q(url__iendswith=f"/{repository}/pull/{number}") | Q(repository__full_name__iexact=repository, number=number)
    )
    return matches.order_by("id").first()


def _older_than_stored(pr: PullRequest, data: dict[str, Any]) -> str:
    """Why the event is older than the stored state (a late or replayed delivery), or "" when it is not."""
    # GitHub does not deliver in order and redelivers on request under a new delivery id: the payload's
    # `pull_request.updated_at` orders the events. An equal time is applied: the two cannot be told apart.
    updated = parse_time(data.get("updated_at"))
    if updated is None or pr.updated_at is None or updated >= pr.updated_at:
        return ""
    return (
        f"older than the stored state: the event's updated_at is {updated.isoformat()}, "
        f"the pull request's {pr.updated_at.isoformat()}"
    )


def _apply_pull_request_event(pr: PullRequest, data: dict[str, Any]) -> None:
    pr.number = data.get("number") or pr.number
    pr.state = data.get("state") or pr.state
    pr.draft = bool(data.get("draft"))
    pr.mergeable = data.get("mergeable")
    head_moved = bool(data.get("head_sha")) and data["head_sha"] != pr.head_sha
    pr.head_sha = data.get("head_sha") or pr.head_sha
    if head_moved:
        pr.checks = "pending"  # new commits: CI starts over; the check events that follow settle it
    updated = parse_time(data.get("updated_at"))
    pr.updated_at = updated or pr.updated_at
    pr.etag = ""  # the stored ETag describes an older version
    pr.synced_at = timezone.now()
    pr.save(
        update_fields=["number", "state", "draft", "mergeable", "head_sha", "checks", "updated_at", "etag", "synced_at"]
    )


def webhook_delivery_process(*, delivery_pk: int, client: GitHubClient | None = None, retry_within: float = 0.0) -> str:
    """Applies a stored delivery to the pull requests it names (calling GitHub for reviews and CI); its status.

    The delivery is claimed (received -> processing, with a heartbeat) and marked processed only once applied:
    a pull request event in the same transaction as its state, other events after GitHub answered. A watchdog
    queues again a delivery whose worker is gone. `retry_within`: the longest a transient error's retry waits.
    """
    claimed = WebhookDelivery.objects.filter(pk=delivery_pk, status=WebhookDelivery.Status.RECEIVED).update(
        status=WebhookDelivery.Status.PROCESSING, **WebhookDelivery.claim_fields()
    )
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.get(pk=delivery_pk)
    # Every write of the outcome holds only while this claim does: after a recovery the delivery is not ours.
    held = WebhookDelivery.objects.filter(
        pk=delivery_pk, claim_token=delivery.claim_token, status=WebhookDelivery.Status.PROCESSING
    )
    try:
        with heartbeat(delivery):
            status = _process(delivery, delivery.data, client, held)
    except TransientAPIError:
        # Let the task retry: put the delivery back so the retry can claim it.
        held.update(
            status=WebhookDelivery.Status.RECEIVED,
            claim_token="",
            heartbeat_at=None,
            queued_at=timezone.now() + timedelta(seconds=retry_within),
        )
        raise
    except (PermanentAPIError, ValueError) as exc:
        _outcome(held, WebhookDelivery.Status.FAILED, str(exc))
        return WebhookDelivery.Status.FAILED
    return status


def webhook_delivery_retry_due(*, delivery_pk: int, within: float) -> None:
    """Tells the watchdog that a received delivery waits for a retry due within `within` seconds."""
    WebhookDelivery.objects.filter(
        pk=delivery_pk, status=WebhookDelivery.Status.RECEIVED, claim_token="", heartbeat_at=None
    ).update(queued_at=timezone.now() + timedelta(seconds=within))


def webhook_deliveries_recover(*, cutoff: datetime | None = None) -> Recovered:
    """Queues again, once each, the deliveries whose worker stopped beating (or whose queued task was lost)."""
    # Here, not at the top: the tasks module imports this one.
    from runs.github.tasks import webhook_delivery_process_task

    recovered = WebhookDelivery.recover_stale(
        cutoff=cutoff,
        retry_fields={"queued_at": timezone.now()},
        give_up_fields={"message": GAVE_UP, "processed_at": timezone.now()},
    )
    for pk in recovered.retried:
        transaction.on_commit(partial(webhook_delivery_process_task.delay, pk))
    return recovered


def _outcome(held, status: str, message: str = "") -> str:
    """Records the outcome while the claim holds; "skipped" when the watchdog took the delivery back meanwhile."""
    written = held.update(status=status, message=message[:2000], processed_at=timezone.now())
    return status if written else "skipped"


def _process(delivery: WebhookDelivery, data: dict[str, Any], client: GitHubClient | None, held) -> str:
    if delivery.event == "pull_request":
        pr = _pull_request_for(delivery.repository, data.get("number") or 0)
        if pr is None:
            return _outcome(held, WebhookDelivery.Status.IGNORED)
        # The state and "processed" commit together: a worker killed in between leaves neither.
        with transaction.atomic():
            pr = PullRequest.objects.select_for_update().get(pk=pr.pk)
            stale = _older_than_stored(pr, data)
            if stale:
                return _outcome(held, WebhookDelivery.Status.IGNORED, stale)
            status = _outcome(held, WebhookDelivery.Status.PROCESSED)
            if status == WebhookDelivery.Status.PROCESSED:
                _apply_pull_request_event(pr, data)
            return status
    if delivery.event == "pull_request_review":
        pr = _pull_request_for(delivery.repository, data.get("number") or 0)
        if pr is None:
            return _outcome(held, WebhookDelivery.Status.IGNORED)
        # A refresh reads the current reviews from GitHub: a late delivery cannot make them older.
        pull_request_reviews_refresh(pull_request=pr, client=client or github_client())
        return _outcome(held, WebhookDelivery.Status.PROCESSED)
    if delivery.event in {"check_suite", "check_run"}:
        prs = [
            _pull_request_for(delivery.repository, ref.get("number") or 0) for ref in data.get("pull_requests") or []
        ]
        prs = [pr for pr in prs if pr is not None]
        for pr in prs:
            pull_request_ci_refresh(
                pull_request=pr, client=client or github_client(), head_sha=data.get("head_sha", "")
            )
        return _outcome(held, WebhookDelivery.Status.PROCESSED if prs else WebhookDelivery.Status.IGNORED)
    return _outcome(held, WebhookDelivery.Status.IGNORED)


def webhook_deliveries_prune(*, older_than: timedelta = DELIVERY_RETENTION) -> int:
    """Deletes deliveries received before `older_than` ago; how many went."""
    deleted, _ = WebhookDelivery.objects.filter(received_at__lt=timezone.now() - older_than).delete()
    return deleted
