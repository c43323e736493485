"""The rerun JSON API and the signed runner callback."""

import json

import pytest
from django.test import Client

from fleetui.common.roles import MIGRATION_OWNER, VIEWER
from runs.fleet.models import Outcome
from runs.reruns.models import RerunBatch, RerunItem, RerunState
from runs.reruns.runners.http import sign
from tests.factories import make_api_token, make_attempt, make_migration, make_repo, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr("runs.reruns.services.rerun_items_enqueue", lambda *, items: None)


@pytest.fixture
def migration():
    migration = make_migration("api-rerun")
    for i in range(3):
        make_attempt(migration, make_repo(f"acme/api-{i}"), outcome=Outcome.VERIFY_FAILED)
    return migration


def api(role=MIGRATION_OWNER):
    return Client(headers={"Authorization": f"Bearer {make_api_token(make_user(role=role))}"})


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_an_owner_creates_a_rerun_and_reads_its_progress(migration, django_assert_max_num_queries):
    client = api()
    created = post(client, "/api/migrations/api-rerun/reruns", {"repos": ["acme/api-0", "acme/api-1", "acme/nope"]})
    assert created.status_code == 201
    body = created.json()
    assert body["items"] == 2 and body["skipped"][0]["repo"] == "acme/nope"
    with django_assert_max_num_queries(15):
        detail = client.get(f"/api/reruns/{body['id']}").json()
    assert detail["status"] == "queued" and detail["counts"]["queued"] == 2
    assert sorted(i["repo"] for i in detail["items"]) == ["acme/api-0", "acme/api-1"]
    assert client.get("/api/reruns").json()["count"] == 1


def test_viewers_may_not_rerun(migration):
    response = post(api(VIEWER), "/api/migrations/api-rerun/reruns", {"repos": ["acme/api-0"]})
    assert response.status_code == 403
    assert not RerunBatch.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{"repos": "acme/api-0"}, {"cluster": "seven"}, {"repos": ["acme/api-0"], "include_pre_existing": "yes"}, {}],
)
def test_malformed_requests_are_answered_400_with_a_reason(migration, body):
    response = post(api(), "/api/migrations/api-rerun/reruns", body)
    assert response.status_code == 400 and response.json()["error"]


def test_a_batch_over_the_maximum_is_refused(migration, settings):
    settings.RERUN_MAX_BATCH = 1
    response = post(api(), "/api/migrations/api-rerun/reruns", {"repos": ["acme/api-0", "acme/api-1"]})
    assert response.status_code == 400 and "at most 1" in response.json()["error"]


def test_cancel_and_retry_failed_through_the_api(migration):
    client = api()
    batch_id = post(client, "/api/migrations/api-rerun/reruns", {"repos": ["acme/api-0", "acme/api-1"]}).json()["id"]
    first = RerunItem.objects.filter(batch_id=batch_id).order_by("id").first()
    RerunItem.objects.filter(pk=first.pk).update(state=RerunState.FAILED, error="boom")
    assert client.post(f"/api/reruns/{batch_id}/cancel").json()["cancelled"] == 1
    assert client.post(f"/api/reruns/{batch_id}/retry-failed").json()["retried"] == 1
    assert api(VIEWER).post(f"/api/reruns/{batch_id}/cancel").status_code == 403
    assert client.get("/api/reruns/999999").status_code == 404


def test_the_runner_callback_needs_a_valid_signature(migration, settings):
    settings.FLEETUI_RUNNER_SECRET = "cb-secret"
    batch_id = post(api(), "/api/migrations/api-rerun/reruns", {"repos": ["acme/api-0"]}).json()["id"]
    item = RerunItem.objects.get(batch_id=batch_id)
    RerunItem.objects.filter(pk=item.pk).update(state=RerunState.RUNNING, dispatch_token="k-1", tries=1)
    body = json.dumps({"idempotency_key": "k-1", "state": "succeeded"}).encode()
    anonymous = Client()
    forged = anonymous.post(
        "/webhooks/reruns/callback", body, content_type="application/json", headers={"X-Fleetui-Signature": "sha256=00"}
    )
    assert forged.status_code == 401
    signed = anonymous.post(
        "/webhooks/reruns/callback",
        body,
        content_type="application/json",
        headers={"X-Fleetui-Signature": sign("cb-secret", body)},
    )
    assert signed.status_code == 200 and signed.json()["applied"] is True
    item.refresh_from_db()
    assert item.state == RerunState.SUCCEEDED


def test_the_rerun_endpoints_are_in_the_openapi_document(migration):
    paths = api(VIEWER).get("/api/openapi.json").json()["paths"]
    assert {"/migrations/{slug}/reruns", "/reruns/{batch_id}", "/reruns/{batch_id}/cancel"} <= set(paths)
