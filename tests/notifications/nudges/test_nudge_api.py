"""The nudge API: drafts per team, send once (409 after), paginated list and its OpenAPI description."""

import pytest

from fleetui.common.roles import MIGRATION_OWNER, VIEWER
from notifications.nudges.models import Nudge
from notifications.slack.models import SlackChannel, TeamChannel
from runs.fleet.models import Outcome
from tests.factories import (
    make_api_token,
    make_attempt,
    make_migration,
    make_repo,
    make_team,
    make_user,
)
from tests.notifications.nudges.ready import make_ready_pr

pytestmark = pytest.mark.django_db


def auth(role):
    return {"HTTP_AUTHORIZATION": f"Bearer {make_api_token(make_user(role=role))}"}


def setup_two_teams():
    migration = make_migration("java-21", "Java 21")
    for slug in ("payments", "checkout"):
        team = make_team(slug)
        channel = SlackChannel.objects.create(channel_id=f"C0{slug.upper()}", name=slug, is_member=True)
        TeamChannel.objects.create(team=team, channel=channel, source="matched", score=1.0)
        attempt = make_attempt(migration, make_repo(f"acme/{slug}-api", team=team), outcome=Outcome.SUCCEEDED)
        make_ready_pr(attempt)
    return migration


def test_posting_repos_returns_one_draft_per_team(client):
    setup_two_teams()

    response = client.post(
        "/api/migrations/java-21/nudges",
        {"repos": ["acme/payments-api", "acme/checkout-api"]},
        content_type="application/json",
        **auth(MIGRATION_OWNER),
    )

    assert response.status_code == 201
    body = response.json()
    assert sorted((d["team"], d["channel"]) for d in body) == [("checkout", "checkout"), ("payments", "payments")]
    assert all(d["text"] and d["id"] for d in body)


def test_a_viewer_cannot_draft_or_send(client):
    setup_two_teams()
    headers = auth(VIEWER)

    drafted = client.post("/api/migrations/java-21/nudges", {}, content_type="application/json", **headers)

    assert drafted.status_code == 403
    assert not Nudge.objects.exists()


def test_the_second_send_answers_409(client, django_capture_on_commit_callbacks, monkeypatch):
    from notifications.nudges import tasks

    monkeypatch.setattr(tasks.nudge_send_task, "apply_async", lambda args, countdown: None)
    setup_two_teams()
    headers = auth(MIGRATION_OWNER)
    draft_id = client.post(
        "/api/migrations/java-21/nudges", {"repos": ["acme/payments-api"]}, content_type="application/json", **headers
    ).json()[0]["id"]

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(f"/api/nudges/{draft_id}/send", **headers)
        second = client.post(f"/api/nudges/{draft_id}/send", **headers)

    assert first.status_code == 202 and first.json()["status"] == "sending"
    assert second.status_code == 409 and "already" in second.json()["error"]


def test_bad_bodies_answer_400(client):
    setup_two_teams()
    headers = auth(MIGRATION_OWNER)

    not_json = client.post("/api/migrations/java-21/nudges", "{", content_type="application/json", **headers)
    bad_repos = client.post(
        "/api/migrations/java-21/nudges", {"repos": "acme/x"}, content_type="application/json", **headers
    )

    assert not_json.status_code == 400 and bad_repos.status_code == 400


def test_the_list_is_paginated_and_filtered_by_migration(client, django_assert_max_num_queries):
    migration = setup_two_teams()
    other = make_migration("node-22")
    team = make_team("payments")
    for i in range(3):
        Nudge.objects.create(migration=migration, team=team, text=f"n{i}")
    Nudge.objects.create(migration=other, team=team, text="other")
    headers = auth(VIEWER)

    with django_assert_max_num_queries(8):
        response = client.get("/api/nudges", {"migration": "java-21", "limit": 2}, **headers)

    body = response.json()
    assert body["count"] == 3 and len(body["results"]) == 2
    assert {r["migration"] for r in body["results"]} == {"java-21"}


def test_the_openapi_document_describes_the_nudge_endpoints(client):
    response = client.get("/api/openapi.json", **auth(VIEWER))

    paths = response.json()["paths"]
    assert "post" in paths["/migrations/{slug}/nudges"]
    assert "409" in paths["/nudges/{id}/send"]["post"]["responses"]
    assert "get" in paths["/nudges"]
