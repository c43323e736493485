"""Late or replayed webhook deliveries (a new delivery id, an older `pull_request.updated_at`) never overwrite
newer pull-request state."""

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from django.test import Client

from fleetui.celery import app as celery_app
from runs.demo.payloads import payload
from runs.fleet.models import PullRequest
from runs.github.models import WebhookDelivery
from tests.factories import make_attempt, make_migration, make_repo

pytestmark = pytest.mark.django_db

SECRET = "webhook-secret-for-tests"
OPENED_AT = datetime(2019, 5, 15, 15, 20, 33, tzinfo=UTC)  # pull_request.opened.json's updated_at
CLOSED_AT = datetime(2019, 5, 15, 15, 21, 18, tzinfo=UTC)  # pull_request.closed.unmerged.json's


@pytest.fixture
def webhook(settings, fake_github):
    settings.GITHUB_WEBHOOK_SECRET = SECRET
    settings.GITHUB_API_URL = fake_github.url
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield Client(enforce_csrf_checks=True)
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


def deliver(client, name: str, *, delivery: str, django_capture_on_commit_callbacks, **changes):
    body = payload(f"github/webhooks/{name}")
    body["pull_request"].update(changes)
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/webhooks/github",
            data=raw,
            content_type="application/json",
            HTTP_X_GITHUB_EVENT="pull_request",
            HTTP_X_GITHUB_DELIVERY=delivery,
            HTTP_X_HUB_SIGNATURE_256=signature,
        )
    assert response.status_code == 200, response.content
    return WebhookDelivery.objects.get(delivery_id=delivery)


def hello_world_pr(**fields) -> PullRequest:
    attempt = make_attempt(make_migration("java-21"), make_repo("Codertocat/Hello-World"), outcome="succeeded")
    return PullRequest.objects.create(
        url="https://github.com/Codertocat/Hello-World/pull/2",
        repository=attempt.repository,
        migration=attempt.migration,
        attempt=attempt,
        **fields,
    )


def test_an_opened_event_arriving_after_the_close_leaves_the_pull_request_closed(
    webhook, django_capture_on_commit_callbacks
):
    pr = hello_world_pr(state="unknown")

    closed = deliver(
        webhook,
        "pull_request.closed.unmerged.json",
        delivery="close",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )
    late = deliver(
        webhook,
        "pull_request.opened.json",
        delivery="open-late",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )

    pr.refresh_from_db()
    assert (pr.state, pr.updated_at) == ("closed", CLOSED_AT)
    assert closed.status == "processed"
    assert late.status == "ignored" and "older than the stored state" in late.message


def test_a_replay_under_a_new_delivery_id_does_not_undo_a_newer_sync(webhook, django_capture_on_commit_callbacks):
    # A sync read the pull request after the event: merged, and newer than the delivery GitHub now replays.
    pr = hello_world_pr(state="merged", draft=False, updated_at=datetime(2019, 5, 16, tzinfo=UTC))

    replay = deliver(
        webhook,
        "pull_request.opened.json",
        delivery="replayed-by-hand",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
        draft=True,
    )

    pr.refresh_from_db()
    assert (pr.state, pr.draft) == ("merged", False)
    assert replay.status == "ignored"


def test_events_in_order_and_events_with_the_same_time_are_applied(webhook, django_capture_on_commit_callbacks):
    pr = hello_world_pr(state="unknown")

    opened = deliver(
        webhook,
        "pull_request.opened.json",
        delivery="open",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )
    same_second = deliver(
        webhook,
        "pull_request.opened.json",
        delivery="edit",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
        title="Renamed in the same second",
        draft=True,
    )
    closed = deliver(
        webhook,
        "pull_request.closed.unmerged.json",
        delivery="close",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )

    pr.refresh_from_db()
    assert [opened.status, same_second.status, closed.status] == ["processed"] * 3
    assert (pr.state, pr.updated_at) == ("closed", CLOSED_AT)


def test_an_event_for_a_pull_request_never_read_is_applied(webhook, django_capture_on_commit_callbacks):
    pr = hello_world_pr(state="unknown", updated_at=None)

    deliver(
        webhook,
        "pull_request.opened.json",
        delivery="open",
        django_capture_on_commit_callbacks=django_capture_on_commit_callbacks,
    )

    pr.refresh_from_db()
    assert (pr.state, pr.updated_at) == ("open", OPENED_AT)
