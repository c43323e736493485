"""A webhook delivery is marked processed only once it is applied; a delivery whose worker is gone is queued
again once, and one whose worker still beats is left alone."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from fleetui.common.models import heartbeat_timeout
from runs.demo.payloads import payload
from runs.fleet.models import PullRequest
from runs.github.client import GitHubClient
from runs.github.deliveries import webhook_deliveries_recover, webhook_delivery_process, webhook_delivery_store
from runs.github.models import WebhookDelivery
from runs.github.payloads import parse_event
from tests.celery_support import wait_for
from tests.factories import make_attempt, make_migration, make_repo

pytestmark = pytest.mark.django_db


def in_a_worker_thread(function, **kwargs):
    """Run `function` as a worker would, closing this thread's database connection afterwards."""
    try:
        function(**kwargs)
    finally:
        connection.close()


class WorkerKilled(BaseException):
    """Stands for the worker process dying: nothing after it runs, no handler sees it."""


def stored(event: str, name: str, *, delivery: str, capture) -> WebhookDelivery:
    """A verified delivery as the endpoint stores it; its queued task is captured, not run."""
    with capture():
        row, created = webhook_delivery_store(
            delivery_id=delivery, event_name=event, parsed=parse_event(event, payload(f"github/webhooks/{name}"))
        )
    assert created
    return row


def hello_world_pr(**fields) -> PullRequest:
    attempt = make_attempt(make_migration("java-21"), make_repo("Codertocat/Hello-World"), outcome="succeeded")
    return PullRequest.objects.create(
        url="https://github.com/Codertocat/Hello-World/pull/2",
        repository=attempt.repository,
        migration=attempt.migration,
        attempt=attempt,
        **fields,
    )


def time_passes(pk: int) -> None:
    """The heartbeat timeout passes: the last beat and the queueing time are now that much older."""
    gone = timezone.now() - timedelta(seconds=2 * heartbeat_timeout())
    WebhookDelivery.objects.filter(pk=pk, heartbeat_at__isnull=False).update(heartbeat_at=gone)
    WebhookDelivery.objects.filter(pk=pk, queued_at__isnull=False).update(queued_at=gone)


def reviewed(fake) -> None:
    fake.add_pull("Codertocat", "Hello-World", 2)
    fake.add_review("Codertocat", "Hello-World", 2, user="bo", state="CHANGES_REQUESTED")


def test_a_review_delivery_whose_worker_died_is_not_processed_and_is_applied_after_recovery(
    fake_github, django_capture_on_commit_callbacks
):
    pr = hello_world_pr(state="open")
    reviewed(fake_github)
    delivery = stored(
        "pull_request_review",
        "pull_request_review.submitted.json",
        delivery="r-1",
        capture=django_capture_on_commit_callbacks,
    )
    dying = GitHubClient(base_url=fake_github.url)

    def list_reviews(*args, **kwargs):
        raise WorkerKilled("list_reviews")

    dying.list_reviews = list_reviews

    with pytest.raises(WorkerKilled):
        webhook_delivery_process(delivery_pk=delivery.pk, client=dying)
    after_death = WebhookDelivery.objects.get(pk=delivery.pk).status
    time_passes(delivery.pk)
    with django_capture_on_commit_callbacks() as queued:
        first = webhook_deliveries_recover()
        second = webhook_deliveries_recover()
    status = webhook_delivery_process(delivery_pk=delivery.pk, client=GitHubClient(base_url=fake_github.url))

    pr.refresh_from_db()
    assert after_death == "processing", "a delivery is not processed before it is applied"
    assert first.retried == [delivery.pk] and not second and len(queued) == 1
    assert status == "processed" and pr.review == "changes_requested"


def test_a_pull_request_event_and_its_processed_mark_commit_together(
    fake_github, django_capture_on_commit_callbacks, monkeypatch
):
    pr = hello_world_pr(state="unknown")
    delivery = stored(
        "pull_request", "pull_request.opened.json", delivery="p-1", capture=django_capture_on_commit_callbacks
    )
    real_save = PullRequest.save

    def dies_while_saving(self, *args, **kwargs):
        real_save(self, *args, **kwargs)
        raise WorkerKilled("save")

    monkeypatch.setattr(PullRequest, "save", dies_while_saving)
    with pytest.raises(WorkerKilled):
        webhook_delivery_process(delivery_pk=delivery.pk)
    monkeypatch.setattr(PullRequest, "save", real_save)
    pr.refresh_from_db()
    state_after_death = (pr.state, WebhookDelivery.objects.get(pk=delivery.pk).status)
    time_passes(delivery.pk)
    with django_capture_on_commit_callbacks():
        webhook_deliveries_recover()
    status = webhook_delivery_process(delivery_pk=delivery.pk)

    pr.refresh_from_db()
    assert state_after_death == ("unknown", "processing")
    assert status == "processed" and pr.state == "open"


def test_a_received_delivery_whose_task_was_lost_is_queued_again_and_a_fresh_one_is_not(
    django_capture_on_commit_callbacks,
):
    hello_world_pr(state="unknown")
    lost = stored(
        "pull_request", "pull_request.opened.json", delivery="lost", capture=django_capture_on_commit_callbacks
    )
    fresh = stored(
        "pull_request",
        "pull_request.closed.unmerged.json",
        delivery="fresh",
        capture=django_capture_on_commit_callbacks,
    )
    time_passes(lost.pk)

    with django_capture_on_commit_callbacks() as queued:
        recovered = webhook_deliveries_recover()

    assert recovered.retried == [lost.pk] and len(queued) == 1
    assert WebhookDelivery.objects.get(pk=fresh.pk).recoveries == 0


@pytest.mark.django_db(transaction=True)
def test_a_delivery_whose_worker_still_beats_is_left_alone_however_slow_github_is(
    fake_github, settings, django_capture_on_commit_callbacks
):
    settings.FLEETUI_HEARTBEAT_TIMEOUT = 2.0
    hello_world_pr(state="open")
    reviewed(fake_github)
    delivery = stored(
        "pull_request_review",
        "pull_request_review.submitted.json",
        delivery="slow",
        capture=django_capture_on_commit_callbacks,
    )
    fake_github.delay_seconds = 6.0  # GitHub answers after three heartbeat timeouts
    client = GitHubClient(base_url=fake_github.url, timeout=10)
    worker = threading.Thread(
        target=in_a_worker_thread,
        args=(webhook_delivery_process,),
        kwargs={"delivery_pk": delivery.pk, "client": client},
    )
    worker.start()
    try:
        assert wait_for(lambda: fake_github.requests_to("/reviews"), timeout=10)
        time.sleep(3.0)  # longer than the timeout: only the heartbeat says the worker is alive
        recovered = webhook_deliveries_recover()
        meanwhile = WebhookDelivery.objects.get(pk=delivery.pk).status
    finally:
        worker.join(timeout=20)

    assert not recovered and meanwhile == "processing"
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == "processed"
