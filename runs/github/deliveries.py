"""GitHub webhook deliveries: stored once per delivery id, applied by a task, pruned after a while."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fleetui.common.errors import PermanentAPIError, TransientAPIError
from fleetui.common.text import parse_time
from runs.fleet.models import PullRequest
from runs.github.client import GitHubClient
from runs.github.models import WebhookDelivery
from runs.github.payloads import WebhookEvent
from runs.github.sync import github_client, pull_request_ci_refresh, pull_request_reviews_refresh

# GitHub redelivers within days; a month of delivery ids is ample to recognise a replay.
DELIVERY_RETENTION = timedelta(days=30)


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


def webhook_delivery_process(*, delivery_pk: int, client: GitHubClient | None = None) -> str:
    """Applies a stored delivery to the pull requests it names (calling GitHub for reviews and CI); its status."""
    claimed = WebhookDelivery.objects.filter(pk=delivery_pk, status=WebhookDelivery.Status.RECEIVED).update(
        status=WebhookDelivery.Status.PROCESSED, processed_at=timezone.now()
    )
    if not claimed:
        return "skipped"
    delivery = WebhookDelivery.objects.get(pk=delivery_pk)
    data = delivery.data
    try:
        status = _process(delivery, data, client)
    except TransientAPIError:
        # Let the task retry: put the delivery back so the retry can claim it.
        WebhookDelivery.objects.filter(pk=delivery_pk).update(status=WebhookDelivery.Status.RECEIVED)
        raise
    except (PermanentAPIError, ValueError) as exc:
        WebhookDelivery.objects.filter(pk=delivery_pk).update(
            status=WebhookDelivery.Status.FAILED, message=str(exc)[:2000]
        )
        return WebhookDelivery.Status.FAILED
    if status != WebhookDelivery.Status.PROCESSED:
        WebhookDelivery.objects.filter(pk=delivery_pk).update(status=status)
    return status


def _process(delivery: WebhookDelivery, data: dict[str, Any], client: GitHubClient | None) -> str:
    if delivery.event == "pull_request":
        pr = _pull_request_for(delivery.repository, data.get("number") or 0)
        if pr is None:
            return WebhookDelivery.Status.IGNORED
        _apply_pull_request_event(pr, data)
        return WebhookDelivery.Status.PROCESSED
    if delivery.event == "pull_request_review":
        pr = _pull_request_for(delivery.repository, data.get("number") or 0)
        if pr is None:
            return WebhookDelivery.Status.IGNORED
        pull_request_reviews_refresh(pull_request=pr, client=client or github_client())
        return WebhookDelivery.Status.PROCESSED
    if delivery.event in {"check_suite", "check_run"}:
        prs = [
            _pull_request_for(delivery.repository, ref.get("number") or 0) for ref in data.get("pull_requests") or []
        ]
        prs = [pr for pr in prs if pr is not None]
        for pr in prs:
            pull_request_ci_refresh(
                pull_request=pr, client=client or github_client(), head_sha=data.get("head_sha", "")
            )
        return WebhookDelivery.Status.PROCESSED if prs else WebhookDelivery.Status.IGNORED
    return WebhookDelivery.Status.IGNORED


def webhook_deliveries_prune(*, older_than: timedelta = DELIVERY_RETENTION) -> int:
    """Deletes deliveries received before `older_than` ago; how many went."""
    deleted, _ = WebhookDelivery.objects.filter(received_at__lt=timezone.now() - older_than).delete()
    return deleted
