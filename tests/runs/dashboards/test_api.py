"""The JSON API: auth, pagination, filters, errors, permissions, query counts and the OpenAPI document."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from fleetui.common.openapi import _extra_paths, _extra_schemas, register_paths
from fleetui.common.roles import ADMIN, MIGRATION_OWNER, VIEWER
from runs.fleet.models import Outcome, Phase, RepositoryState
from runs.imports.models import ImportRun
from tests.factories import (
    make_api_token,
    make_attempt,
    make_import_run,
    make_judge,
    make_migration,
    make_pull_request,
    make_repo,
    make_team,
    make_user,
    make_verifier_result,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer_token():
    return make_api_token(make_user(role=VIEWER))


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def get_json(client, url, key, **params):
    response = client.get(url, params, headers=bearer(key))
    assert response["Content-Type"] == "application/json", response.content[:200]
    return response


def seed_migration(slug: str, repos: int, *, team=None) -> None:
    migration = make_migration(slug)
    for i in range(repos):
        repo = make_repo(f"org/{slug}-repo-{i:03d}", team=team)
        attempt = make_attempt(migration, repo, outcome=Outcome.VERIFY_FAILED)
        make_verifier_result(attempt, passed=True, kind="maven")
        make_verifier_result(attempt, passed=False, kind="maven", snippet=f"[ERROR] cannot find symbol {i}")
        make_judge(attempt)
        make_pull_request(attempt)


# --- authentication ---------------------------------------------------------------


def test_a_request_without_a_token_gets_401(client):
    response = client.get("/api/migrations")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_request_with_an_unknown_token_gets_401(client):
    response = client.get("/api/migrations", headers=bearer("fui_not-a-real-token"))
    assert response.status_code == 401
    assert "invalid" in response.json()["error"]


def test_a_request_with_a_valid_token_gets_200(client, viewer_token):
    assert get_json(client, "/api/migrations", viewer_token).status_code == 200


def test_a_logged_in_session_can_use_the_api(client):
    client.force_login(make_user(role=VIEWER))
    assert client.get("/api/migrations").status_code == 200


def test_a_token_of_an_inactive_user_is_refused(client):
    user = make_user(role=VIEWER)
    key = make_api_token(user)
    user.is_active = False
    user.save()
    assert client.get("/api/migrations", headers=bearer(key)).status_code == 401


# --- lists, pagination and filters ------------------------------------------------------


def test_migrations_list_counts_repos_attempts_and_states(client, viewer_token):
    migration = make_migration("java-21", title="Java 21")
    make_attempt(migration, make_repo("org/a"), outcome=Outcome.SUCCEEDED)
    failed_repo = make_repo("org/b")
    make_attempt(migration, failed_repo, outcome=Outcome.AGENT_ERROR)
    make_attempt(migration, failed_repo, outcome=Outcome.VERIFY_FAILED)
    make_attempt(migration, make_repo("org/c"), outcome=Outcome.VERIFY_FAILED, phase=Phase.BASELINE)
    body = get_json(client, "/api/migrations", viewer_token).json()
    assert body["count"] == 1
    row = body["results"][0]
    assert (row["slug"], row["title"], row["repos"], row["attempts"]) == ("java-21", "Java 21", 3, 4)
    assert row["pre_existing"] == 1
    assert row["by_state"]["succeeded"] == 1
    assert row["by_state"]["verify_failed"] == 1
    assert row["by_state"]["not_started"] == 1
    assert set(row["by_state"]) == set(RepositoryState.values)


def test_lists_are_paginated_with_limit_and_offset(client, viewer_token):
    seed_migration("m", 7)
    first = get_json(client, "/api/migrations/m/repos", viewer_token, limit=3).json()
    last = get_json(client, "/api/migrations/m/repos", viewer_token, limit=3, offset=6).json()
    assert (first["count"], first["limit"], first["offset"]) == (7, 3, 0)
    assert [r["repo"] for r in first["results"]] == ["org/m-repo-000", "org/m-repo-001", "org/m-repo-002"]
    assert [r["repo"] for r in last["results"]] == ["org/m-repo-006"]


def test_the_default_page_size_comes_from_settings(client, viewer_token, settings):
    settings.API_PAGE_SIZE = 2
    seed_migration("m", 3)
    body = get_json(client, "/api/migrations/m/repos", viewer_token).json()
    assert body["limit"] == 2
    assert len(body["results"]) == 2


@pytest.mark.parametrize(
    "params", [{"limit": "abc"}, {"limit": "0"}, {"limit": "-1"}, {"offset": "-5"}, {"offset": "x"}]
)
def test_bad_pagination_values_get_400_with_a_message(client, viewer_token, params):
    response = get_json(client, "/api/migrations", viewer_token, **params)
    assert response.status_code == 400
    assert response.json()["error"]


def test_a_limit_above_the_maximum_is_refused(client, viewer_token, settings):
    settings.API_MAX_PAGE_SIZE = 10
    assert get_json(client, "/api/migrations", viewer_token, limit=11).status_code == 400
    assert get_json(client, "/api/migrations", viewer_token, limit=10).status_code == 200


def test_repos_can_be_filtered_by_state_and_team(client, viewer_token):
    migration = make_migration("m")
    payments = make_team("payments")
    make_attempt(migration, make_repo("org/pay-ok", team=payments), outcome=Outcome.SUCCEEDED)
    make_attempt(migration, make_repo("org/pay-bad", team=payments), outcome=Outcome.VERIFY_FAILED)
    make_attempt(migration, make_repo("org/other-bad", team=make_team("search")), outcome=Outcome.VERIFY_FAILED)
    make_attempt(migration, make_repo("org/orphan"), outcome=Outcome.VERIFY_FAILED)

    def repos(**params):
        return [
            r["repo"] for r in get_json(client, "/api/migrations/m/repos", viewer_token, **params).json()["results"]
        ]

    assert repos(state="verify_failed") == ["org/orphan", "org/other-bad", "org/pay-bad"]
    assert repos(team="payments") == ["org/pay-bad", "org/pay-ok"]
    assert repos(state="verify_failed", team="payments") == ["org/pay-bad"]
    assert repos(team="-") == ["org/orphan"]


def test_an_unknown_state_filter_gets_400(client, viewer_token):
    make_migration("m")
    response = get_json(client, "/api/migrations/m/repos", viewer_token, state="exploded")
    assert response.status_code == 400
    assert "verify_failed" in response.json()["error"]


def test_repos_carry_their_latest_pull_request(client, viewer_token):
    migration = make_migration("m")
    attempt = make_attempt(migration, make_repo("org/a"))
    make_pull_request(attempt, number=3, state="closed", updated_at="2026-01-01T00:00:00Z")
    make_pull_request(attempt, number=4, state="open", draft=True, checks="failure", updated_at="2026-02-01T00:00:00Z")
    make_attempt(migration, make_repo("org/no-pr"))
    rows = get_json(client, "/api/migrations/m/repos", viewer_token).json()["results"]
    pr = rows[0]["pr"]
    assert (pr["number"], pr["state"], pr["draft"], pr["checks"]) == (4, "open", True, "failure")
    assert pr["url"].endswith("/pull/4")
    assert rows[0]["last_trace_id"] == attempt.trace_id
    assert rows[1]["pr"] is None


def test_attempts_list_has_verifiers_and_judge_and_filters_by_repo(client, viewer_token):
    migration = make_migration("m")
    attempt = make_attempt(migration, make_repo("org/a"), outcome=Outcome.JUDGE_REJECTED)
    make_verifier_result(attempt, passed=True, kind="gradle")
    make_judge(attempt, verdict="reject", rationale="Tests were deleted.")
    make_attempt(migration, make_repo("org/b"), outcome=Outcome.AGENT_ERROR)
    body = get_json(client, "/api/migrations/m/attempts", viewer_token, repo="org/a").json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["trace_id"] == attempt.trace_id
    assert row["outcome"] == "judge_rejected"
    assert row["verifiers"] == [{"verifier": "gradle", "passed": True, "snippet": ""}]
    assert row["judge"] == {"verdict": "reject", "rationale": "Tests were deleted."}
    other = get_json(client, "/api/migrations/m/attempts", viewer_token, repo="org/b").json()["results"][0]
    assert other["judge"] is None


# --- errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/api/migrations/nope/repos", "/api/migrations/nope/attempts", "/api/imports/999999", "/api/no-such-thing"]
)
def test_unknown_objects_and_paths_get_a_json_404(client, viewer_token, url):
    response = get_json(client, url, viewer_token)
    assert response.status_code == 404
    assert response.json()["error"]


def test_a_wrong_method_gets_a_json_405(client, viewer_token):
    response = client.delete("/api/migrations", headers=bearer(viewer_token))
    assert response.status_code == 405
    assert response["Allow"] == "GET"


# --- imports --------------------------------------------------------------------


def test_imports_list_and_detail_show_counts_and_errors(client, viewer_token):
    run = make_import_run(errors=3, seen=10, imported=7)
    body = get_json(client, "/api/imports", viewer_token).json()
    assert body["count"] == 1
    assert (body["results"][0]["id"], body["results"][0]["seen"], body["results"][0]["errors"]) == (run.pk, 10, 3)
    detail = get_json(client, f"/api/imports/{run.pk}", viewer_token, limit=2).json()
    assert detail["error_rows"]["count"] == 3
    assert [e["trace_id"] for e in detail["error_rows"]["results"]] == ["tr-bad-0", "tr-bad-1"]


def test_a_viewer_cannot_start_an_import(client, viewer_token):
    response = client.post("/api/imports", headers=bearer(viewer_token))
    assert response.status_code == 403
    assert not ImportRun.objects.exists()


@pytest.mark.parametrize("role", [MIGRATION_OWNER, ADMIN])
def test_an_owner_or_admin_starts_an_import_with_a_token(client, role):
    key = make_api_token(make_user(role=role))
    response = client.post("/api/imports", headers=bearer(key))
    assert response.status_code == 202
    run = ImportRun.objects.get(pk=response.json()["id"])
    assert (run.trigger, run.status) == ("api", response.json()["status"])


def test_a_session_post_without_a_csrf_token_is_refused():
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(make_user(role=MIGRATION_OWNER))
    assert csrf_client.post("/api/imports").status_code == 403
    assert not ImportRun.objects.exists()


# --- query counts ----------------------------------------------------------------


@pytest.mark.parametrize("repos", [5, 60])
def test_repo_and_attempt_lists_take_a_bounded_number_of_queries(
    client, viewer_token, repos, django_assert_max_num_queries
):
    seed_migration("m", repos)
    with django_assert_max_num_queries(6):
        body = get_json(client, "/api/migrations/m/repos", viewer_token, limit=100).json()
    assert len(body["results"]) == repos
    with django_assert_max_num_queries(6):
        body = get_json(client, "/api/migrations/m/attempts", viewer_token, limit=100).json()
    assert len(body["results"]) == repos
    assert all(len(row["verifiers"]) == 2 for row in body["results"])


@pytest.mark.parametrize("migrations", [2, 30])
def test_migrations_list_takes_a_bounded_number_of_queries(
    client, viewer_token, migrations, django_assert_max_num_queries
):
    for i in range(migrations):
        seed_migration(f"m{i}", 2)
    with django_assert_max_num_queries(6):
        body = get_json(client, "/api/migrations", viewer_token, limit=100).json()
    assert body["count"] == migrations


# --- OpenAPI --------------------------------------------------------------------


def test_the_openapi_document_lists_every_endpoint(client, viewer_token):
    response = get_json(client, "/api/openapi.json", viewer_token)
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.1")
    for path in ("/migrations", "/migrations/{slug}/repos", "/migrations/{slug}/attempts", "/imports", "/imports/{id}"):
        assert path in document["paths"], path
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "post" in document["paths"]["/imports"]


def test_every_schema_reference_in_the_openapi_document_resolves(client, viewer_token):
    document = get_json(client, "/api/openapi.json", viewer_token).json()
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert refs
    for ref in refs:
        _, section, name = ref.lstrip("#/").split("/")
        assert name in document["components"][section], ref


def test_the_openapi_document_needs_authentication(client):
    assert client.get("/api/openapi.json").status_code == 401


def test_other_apps_can_register_their_paths(client, viewer_token, monkeypatch):
    monkeypatch.setattr("fleetui.common.openapi._extra_paths", dict(_extra_paths))
    monkeypatch.setattr("fleetui.common.openapi._extra_schemas", dict(_extra_schemas))
    register_paths(
        {"/clusters": {"get": {"summary": "Failure clusters", "responses": {}}}}, {"Cluster": {"type": "object"}}
    )
    document = get_json(client, reverse("api-openapi"), viewer_token).json()
    assert document["paths"]["/clusters"]["get"]["summary"] == "Failure clusters"
    assert "Cluster" in document["components"]["schemas"]
    assert "/migrations" in document["paths"]
