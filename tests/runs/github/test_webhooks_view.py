"""The GitHub webhook endpoint: signatures, replays, and each contract delivery updating the right pull request."""

import copy
import hashlib
import hmac
import json

import pytest
from django.test import Client

from fleetui.celery import app as celery_app
from runs.demo.payloads import payload_path
from runs.fleet.models import PullRequest
from runs.github.models import WebhookDelivery
from tests.factories import make_attempt, make_migration, make_repo

pytestmark = pytest.mark.django_db

WEBHOOKS = payload_path("github/webhooks")
SECRET = "webhook-secret-for-tests"
URL = "/webhooks/github"


def load(name: str) -> dict:
    path = WEBHOOKS / name
    return json.loads(path.read_text())


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(client, event: str, payload, *, delivery: str = "d-1", signature: str | None = None):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"HTTP_X_GITHUB_EVENT": event, "HTTP_X_GITHUB_DELIVERY": delivery}
    if signature != "":
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature or sign(body)
    return client.post(URL, data=body, content_type="application/json", **headers)


@pytest.fixture
def webhook(settings, fake_github, monkeypatch):
    """Anonymous client, the secret configured, tasks run eagerly against the fake GitHub."""
    settings.GITHUB_WEBHOOK_SECRET = SECRET
    settings.GITHUB_API_URL = fake_github.url
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield Client(enforce_csrf_checks=True)
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


def hello_world_pr(**fields) -> PullRequest:
    """The pull request GitHub's example deliveries name (Codertocat/Hello-World#2), as the importer stores it."""
    attempt = make_attempt(make_migration("java-21"), make_repo("Codertocat/Hello-World"), outcome="succeeded")
    return PullRequest.objects.create(
        url="https://github.com/Codertocat/Hello-World/pull/2",
        repository=attempt.repository,
        migration=attempt.migration,
        attempt=attempt,
        **fields,
    )


def test_the_signature_check_agrees_with_githubs_test_vector(webhook):
    vector = load("_signature-test-vector.json")
    from django.conf import settings

    settings.GITHUB_WEBHOOK_SECRET = vector["secret"]
    body = vector["payload"].encode()
    accepted = deliver(webhook, "push", body, signature=vector["X-Hub-Signature-256"])
    refused = deliver(webhook, "push", body, signature=sign(body, "another secret"))
    # The vector's body is not JSON: a matching signature gets as far as parsing, a wrong one does not.
    assert accepted.status_code == 400 and "JSON" in accepted.json()["error"]
    assert refused.status_code == 401


def test_a_delivery_with_a_wrong_signature_is_refused_and_not_stored(webhook):
    payload = load("pull_request.opened.json")
    response = deliver(webhook, "pull_request", payload, signature=sign(b"something else"))
    assert response.status_code == 401
    assert not WebhookDelivery.objects.exists()


def test_a_delivery_without_a_signature_is_refused(webhook):
    response = deliver(webhook, "pull_request", load("pull_request.opened.json"), signature="")
    assert response.status_code == 401
    assert "X-Hub-Signature-256" in response.json()["error"]


def test_webhooks_answer_503_until_a_secret_is_configured(webhook, settings):
    settings.GITHUB_WEBHOOK_SECRET = ""
    response = deliver(webhook, "pull_request", load("pull_request.opened.json"))
    assert response.status_code == 503
    assert "GITHUB_WEBHOOK_SECRET" in response.json()["error"]


def test_a_replayed_delivery_answers_duplicate_and_does_nothing(webhook, django_capture_on_commit_callbacks):
    pr = hello_world_pr(state="unknown")
    payload = load("pull_request.closed.unmerged.json")
    with django_capture_on_commit_callbacks(execute=True) as first:
        assert deliver(webhook, "pull_request", payload, delivery="same").status_code == 200
    pr.refresh_from_db()
    assert pr.state == "closed"
    PullRequest.objects.filter(pk=pr.pk).update(state="open")

    with django_capture_on_commit_callbacks(execute=True) as second:
        replay = deliver(webhook, "pull_request", payload, delivery="same")

    assert replay.status_code == 200 and replay.json() == {"status": "duplicate"}
    assert (len(first), len(second)) == (1, 0)
    pr.refresh_from_db()
    assert pr.state == "open"
    assert WebhookDelivery.objects.count() == 1


def test_the_request_stores_the_delivery_without_calling_github(webhook, fake_github):
    hello_world_pr()
    response = deliver(webhook, "pull_request_review", load("pull_request_review.submitted.json"))
    assert response.status_code == 200 and response.json()["status"] == "queued"
    assert fake_github.requests == []
    assert WebhookDelivery.objects.get().status == "received"


def test_an_unknown_event_is_acknowledged_and_ignored(webhook, django_capture_on_commit_callbacks):
    pr = hello_world_pr(state="open")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = deliver(webhook, "issues", {"action": "opened", "issue": {"number": 2}})
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert callbacks == []
    pr.refresh_from_db()
    assert pr.state == "open"


def _variant(name: str, **changes) -> dict:
    payload = copy.deepcopy(load(name))
    pull = changes.pop("pull_request", {})
    payload.update(changes)
    payload["pull_request"].update(pull)
    return payload


PULL_REQUEST_CASES = {
    "opened": (lambda: load("pull_request.opened.json"), {"state": "open", "draft": False}),
    "closed without merge": (lambda: load("pull_request.closed.unmerged.json"), {"state": "closed"}),
    "closed with merge": (
        lambda: _variant(
            "pull_request.closed.unmerged.json", pull_request={"merged": True, "merged_at": "2019-05-15T15:20:33Z"}
        ),
        {"state": "merged"},
    ),
    "reopened": (lambda: _variant("pull_request.opened.json", action="reopened"), {"state": "open"}),
    "converted to draft": (lambda: load("pull_request.converted_to_draft.octokit.json"), {"draft": True}),
    "ready for review": (lambda: load("pull_request.ready_for_review.octokit.json"), {"draft": False}),
    "synchronize": (
        lambda: _variant("pull_request.opened.json", action="synchronize", pull_request={"head": {"sha": "f" * 40}}),
        {"head_sha": "f" * 40, "checks": "pending"},
    ),
}


@pytest.mark.parametrize("case", PULL_REQUEST_CASES)
def test_each_pull_request_delivery_updates_the_pull_request_it_names(
    webhook, django_capture_on_commit_callbacks, case
):
    make_payload, expected = PULL_REQUEST_CASES[case]
    payload = make_payload()
    pr = hello_world_pr(state="unknown", draft=not expected.get("draft", True), head_sha="0" * 40, checks="success")
    other = PullRequest.objects.create(
        url="https://github.com/Codertocat/Hello-World/pull/3",
        repository=pr.repository,
        migration=pr.migration,
        state="unknown",
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(webhook, "pull_request", payload)

    assert response.status_code == 200
    pr.refresh_from_db()
    other.refresh_from_db()
    assert {name: getattr(pr, name) for name in expected} == expected
    assert pr.number == 2
    assert (other.state, other.number) == ("unknown", None)
    assert WebhookDelivery.objects.get().status == "processed"


def test_a_review_delivery_recomputes_the_decision_from_all_reviews(
    webhook, fake_github, django_capture_on_commit_callbacks
):
    pr = hello_world_pr(state="open")
    fake_github.add_pull("Codertocat", "Hello-World", 2, draft=True)
    fake_github.add_review("Codertocat", "Hello-World", 2, user="ana", state="APPROVED")
    fake_github.add_review("Codertocat", "Hello-World", 2, user="bo", state="CHANGES_REQUESTED")

    with django_capture_on_commit_callbacks(execute=True):
        deliver(webhook, "pull_request_review", load("pull_request_review.submitted.json"))

    pr.refresh_from_db()
    assert pr.review == "changes_requested"
    assert fake_github.requests_to("/pulls/2/reviews")


@pytest.mark.parametrize("event", ["check_suite", "check_run"])
def test_a_check_delivery_refreshes_the_ci_state_of_the_pull_requests_it_names(
    webhook, fake_github, django_capture_on_commit_callbacks, event
):
    payload = load(f"{event}.completed.json")
    sha = payload[event]["head_sha"]
    pr = hello_world_pr(state="open", head_sha=sha, checks="pending")
    fake_github.add_check_run("Codertocat", "Hello-World", sha, name="build", conclusion="failure")

    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(webhook, event, payload).status_code == 200

    pr.refresh_from_db()
    assert pr.checks == "failure"


def test_a_check_on_an_older_commit_leaves_the_ci_state_alone(webhook, fake_github, django_capture_on_commit_callbacks):
    payload = load("check_run.completed.json")
    pr = hello_world_pr(state="open", head_sha="e" * 40, checks="success")
    fake_github.add_check_run(
        "Codertocat", "Hello-World", payload["check_run"]["head_sha"], name="b", conclusion="failure"
    )

    with django_capture_on_commit_callbacks(execute=True):
        deliver(webhook, "check_run", payload)

    pr.refresh_from_db()
    assert pr.checks == "success"


def test_a_delivery_for_a_pull_request_not_tracked_here_is_ignored(webhook, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(webhook, "pull_request", load("pull_request.opened.json"))
    assert response.status_code == 200
    assert WebhookDelivery.objects.get().status == "ignored"


def test_deliveries_older_than_the_retention_are_pruned_and_recent_ones_kept():
    from datetime import timedelta

    from django.utils import timezone

    from runs.github.deliveries import DELIVERY_RETENTION, webhook_deliveries_prune
    from runs.github.models import WebhookDelivery

    old = WebhookDelivery.objects.create(delivery_id="old", event="pull_request")
    recent = WebhookDelivery.objects.create(delivery_id="recent", event="pull_request")
    WebhookDelivery.objects.filter(pk=old.pk).update(
        received_at=timezone.now() - DELIVERY_RETENTION - timedelta(days=1)
    )

    assert webhook_deliveries_prune() == 1
    assert list(WebhookDelivery.objects.values_list("delivery_id", flat=True)) == [recent.delivery_id]
