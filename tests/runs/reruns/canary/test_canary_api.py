"""The canary through the JSON API: validation, the deterministic choice, the batch's phase and the expand call."""

import json

import pytest
from django.test import Client

from fleetui.common.roles import MIGRATION_OWNER, VIEWER
from runs.fleet.models import AuditEvent
from runs.reruns.models import RerunBatch, RerunItem, RerunOutcome, RerunPhase, RerunState
from tests.factories import make_api_token, make_user
from tests.runs.reruns.canary.support import NAMES, canary_names, failing_fleet

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr("runs.reruns.services.rerun_items_enqueue", lambda *, items: None)


@pytest.fixture
def fleet():
    return failing_fleet("canary-api")


def api(role=MIGRATION_OWNER):
    return Client(headers={"Authorization": f"Bearer {make_api_token(make_user(role=role))}"})


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


URL = "/api/migrations/canary-api/reruns"


@pytest.mark.parametrize(
    "canary, message",
    [
        ({"size": 0, "min_fixed": 0.5}, "size must be a whole number from 1"),
        ({"size": -3, "min_fixed": 0.5}, "size must be a whole number from 1"),
        ({"size": 2.5, "min_fixed": 0.5}, "size must be a whole number"),
        ({"size": True, "min_fixed": 0.5}, "size must be a whole number"),
        ({"fraction": 0, "min_fixed": 0.5}, "fraction must be above 0 and at most 1"),
        ({"fraction": 1.5, "min_fixed": 0.5}, "fraction must be above 0 and at most 1"),
        ({"fraction": "half", "min_fixed": 0.5}, "fraction must be a number"),
        ({"size": 2, "fraction": 0.5, "min_fixed": 0.5}, "a size or a fraction, not both"),
        ({"min_fixed": 0.5}, "needs a size"),
        ({"size": 2}, "needs min_fixed"),
        ({"size": 2, "min_fixed": 1.2}, "min_fixed must be between 0 and 1"),
        ({"size": 2, "min_fixed": -0.1}, "min_fixed must be between 0 and 1"),
        ({"size": 2, "min_fixed": 0.5, "max_new_cluster_share": 2}, "max_new_cluster_share must be between 0 and 1"),
        ({"size": 2, "min_fixed": 0.5, "speed": "fast"}, "unknown canary field 'speed'"),
        ("ten", "canary must be an object"),
    ],
)
def test_a_bad_canary_is_refused_with_a_reason_and_creates_nothing(fleet, canary, message):
    response = post(api(), URL, {"repos": NAMES, "canary": canary})
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not RerunBatch.objects.exists()


def test_a_canary_by_fraction_rounds_up_and_reads_back_in_the_batch(fleet):
    client = api()
    created = post(client, URL, {"repos": NAMES, "canary": {"fraction": 0.25, "min_fixed": 0.6}})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["phase"] == "canary" and body["canary"] == 3 and body["items"] == 10
    detail = client.get(body["url"]).json()
    assert detail["phase"] == "canary" and detail["status"] == "queued" and detail["paused_reason"] is None
    canary = detail["canary"]
    assert canary["requested"] == {"fraction": 0.25} and canary["size"] == 3
    assert canary["min_fixed"] == 0.6 and canary["max_new_cluster_share"] == 0.3  # the setting's default
    assert (canary["settled"], canary["fixed"], canary["held"]) == (0, 0, 7)
    assert sum(item["canary"] for item in detail["items"]) == 3
    assert detail["counts"]["held"] == 7 and detail["outcomes"]["held"] == 7


def test_a_canary_as_large_as_the_selection_takes_all_of_it(fleet):
    body = post(api(), URL, {"repos": NAMES[:3], "canary": {"size": 50, "min_fixed": 0.5}}).json()
    assert body["canary"] == 3
    assert not RerunItem.objects.filter(batch_id=body["id"], state=RerunState.HELD).exists()


def test_the_same_selection_chooses_the_same_canary_whatever_its_order(fleet):
    client = api()
    first = post(client, URL, {"repos": NAMES, "canary": {"size": 4, "min_fixed": 0.5}}).json()
    client.post(f"/api/reruns/{first['id']}/cancel")
    second = post(client, URL, {"repos": list(reversed(NAMES)), "canary": {"size": 4, "min_fixed": 0.5}}).json()
    _, _, cluster = fleet
    client.post(f"/api/reruns/{second['id']}/cancel")
    third = post(client, URL, {"cluster": cluster.pk, "canary": {"size": 4, "min_fixed": 0.5}}).json()
    chosen = [canary_names(RerunBatch.objects.get(pk=b["id"])) for b in (first, second, third)]
    assert chosen[0] == chosen[1] == chosen[2] and len(chosen[0]) == 4


def test_a_batch_without_a_canary_reads_full_and_cannot_be_expanded(fleet):
    client = api()
    body = post(client, URL, {"repos": NAMES[:2]}).json()
    assert body["phase"] == "full" and body["canary"] is None
    detail = client.get(body["url"]).json()
    assert detail["phase"] == "full" and detail["canary"] is None
    refused = client.post(f"/api/reruns/{body['id']}/expand")
    assert refused.status_code == 400 and "did not start as a canary" in refused.json()["error"]


def test_an_owner_expands_through_the_api_once_and_viewers_may_not(fleet):
    client = api()
    body = post(client, URL, {"repos": NAMES, "canary": {"size": 2, "min_fixed": 1}}).json()
    assert api(VIEWER).post(f"/api/reruns/{body['id']}/expand").status_code == 403
    RerunBatch.objects.filter(pk=body["id"]).update(phase=RerunPhase.PAUSED, paused_reason="0 of 2 fixed, below 100%")
    first = client.post(f"/api/reruns/{body['id']}/expand").json()
    assert first == {"id": body["id"], "phase": "expanded", "expanded": True, "released": 8}
    again = client.post(f"/api/reruns/{body['id']}/expand").json()
    assert again == {"id": body["id"], "phase": "expanded", "expanded": False, "released": 0}
    assert AuditEvent.objects.filter(verb="rerun.canary_expanded", target_id=str(body["id"])).count() == 1
    detail = client.get(body["url"]).json()
    assert detail["paused_reason"] == "0 of 2 fixed, below 100%" and detail["canary"]["held"] == 0
    assert not RerunItem.objects.filter(batch_id=body["id"], outcome=RerunOutcome.HELD).exists()


def test_a_running_canary_holds_its_repositories_from_other_reruns(fleet):
    client = api()
    post(client, URL, {"repos": NAMES, "canary": {"size": 2, "min_fixed": 0.5}})
    other = post(client, URL, {"repos": NAMES[:1]})
    assert other.status_code == 400 and "held for a canary in rerun #" in other.json()["error"]


def test_the_openapi_description_names_the_canary_the_phase_and_the_expand_call(client):
    client.force_login(make_user(role=VIEWER))
    spec = client.get("/api/openapi.json").json()
    request = spec["paths"]["/migrations/{slug}/reruns"]["post"]["requestBody"]["content"]["application/json"]
    canary = request["schema"]["properties"]["canary"]["oneOf"][0]
    assert set(canary["properties"]) == {"size", "fraction", "min_fixed", "max_new_cluster_share"}
    batch = spec["components"]["schemas"]["RerunBatch"]["properties"]
    assert batch["phase"]["enum"] == ["full", "canary", "expanded", "paused"]
    assert "canary" in batch and "paused_reason" in batch
    assert "post" in spec["paths"]["/reruns/{batch_id}/expand"]
