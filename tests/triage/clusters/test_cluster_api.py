"""The cluster API: list, detail, triage changes, merge, split, rebuild; roles, pagination and query counts."""

import json

import pytest
from django.test import Client

from fleetui.common.roles import ADMIN, MIGRATION_OWNER, REVIEWER, VIEWER
from runs.fleet.models import AuditEvent
from tests.factories import make_api_token, make_failed_verify, make_migration, make_pull_request, make_user
from triage.clusters.models import ClusteringRun, ClusterMember, FailureCluster
from triage.clusters.services import clusters_rebuild

pytestmark = pytest.mark.django_db


def token(role: str) -> dict:
    return {"Authorization": f"Bearer {make_api_token(make_user(role=role))}"}


def send(client, method: str, url: str, headers: dict, body=None):
    call = getattr(client, method)
    return call(url, data=json.dumps(body or {}), content_type="application/json", headers=headers)


@pytest.fixture
def fleet():
    migration = make_migration("jackson-3")
    symbols = [make_failed_verify(migration, "symbol") for _ in range(3)]
    crates = [make_failed_verify(migration, "crate") for _ in range(2)]
    clusters_rebuild(migration=migration, threshold=0.8)
    big = ClusterMember.objects.get(attempt=symbols[0]).cluster
    small = ClusterMember.objects.get(attempt=crates[0]).cluster
    return migration, big, small, symbols, crates


def test_the_list_answers_clusters_largest_first_with_counts(client, fleet):
    _, big, small, _, _ = fleet

    body = client.get("/api/migrations/jackson-3/clusters", headers=token(VIEWER)).json()

    assert body["count"] == 2
    assert [c["id"] for c in body["results"]] == [big.pk, small.pk]
    first = body["results"][0]
    assert (first["size"], first["repos"], first["agent_failures"], first["pre_existing"]) == (3, 3, 3, 0)
    assert first["status"] == "new" and first["kind"] == "verify" and "JsonParser" in first["example_snippet"]


def test_the_list_filters_by_status_and_text_and_pages(client, fleet):
    _, big, small, _, _ = fleet
    FailureCluster.objects.filter(pk=small.pk).update(status="triaged")
    headers = token(VIEWER)

    triaged = client.get("/api/migrations/jackson-3/clusters", {"status": "triaged"}, headers=headers).json()
    found = client.get("/api/migrations/jackson-3/clusters", {"q": "tokio"}, headers=headers).json()
    page = client.get("/api/migrations/jackson-3/clusters", {"limit": 1, "offset": 1}, headers=headers).json()
    bad = client.get("/api/migrations/jackson-3/clusters", {"status": "done"}, headers=headers)

    assert [c["id"] for c in triaged["results"]] == [small.pk]
    assert [c["id"] for c in found["results"]] == [small.pk]
    assert (page["count"], page["limit"], page["offset"], [c["id"] for c in page["results"]]) == (2, 1, 1, [small.pk])
    assert bad.status_code == 400 and "unknown status" in bad.json()["error"]


def test_an_unknown_migration_or_cluster_is_a_json_404(client, fleet):
    headers = token(VIEWER)
    assert client.get("/api/migrations/nope/clusters", headers=headers).status_code == 404
    response = client.get("/api/clusters/999999", headers=headers)
    assert response.status_code == 404 and "error" in response.json()


def test_an_anonymous_request_gets_401(client, fleet):
    assert client.get("/api/migrations/jackson-3/clusters").status_code == 401


def test_the_detail_pages_its_members_with_repo_trace_and_snippet(client, fleet):
    _, big, _, symbols, _ = fleet

    body = client.get(f"/api/clusters/{big.pk}", {"limit": 2}, headers=token(VIEWER)).json()

    assert body["id"] == big.pk and body["migration"] == "jackson-3"
    assert body["members"]["count"] == 3 and len(body["members"]["results"]) == 2
    member = body["members"]["results"][0]
    assert member["trace_id"] in {a.trace_id for a in symbols}
    assert member["repo"] in {a.repository.full_name for a in symbols}
    assert member["why"] in ("exact", "similar") and "JsonParser" in member["snippet"]


@pytest.mark.parametrize("role", [VIEWER, REVIEWER])
def test_a_viewer_or_reviewer_cannot_change_a_cluster(client, fleet, role):
    _, big, small, symbols, _ = fleet
    headers = token(role)

    assert send(client, "patch", f"/api/clusters/{big.pk}", headers, {"status": "triaged"}).status_code == 403
    assert send(client, "post", f"/api/clusters/{small.pk}/merge", headers, {"into": big.pk}).status_code == 403
    split = send(client, "post", f"/api/clusters/{big.pk}/split", headers, {"trace_ids": [symbols[0].trace_id]})
    assert split.status_code == 403
    assert send(client, "post", "/api/migrations/jackson-3/clusters/rebuild", headers).status_code == 403
    assert FailureCluster.objects.get(pk=big.pk).status == "new"
    assert FailureCluster.objects.count() == 2 and not AuditEvent.objects.exists()


def test_an_owner_patches_status_title_notes_and_assignee_with_an_audit_event(client, fleet):
    _, big, _, _, _ = fleet
    assignee = make_user("dana")

    response = send(
        client,
        "patch",
        f"/api/clusters/{big.pk}",
        token(MIGRATION_OWNER),
        {"status": "fix_in_prompt", "title": "Jackson 3 moved JsonParser", "notes": "<b>r4</b>", "assignee": "dana"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["title"], body["title_locked"], body["assignee"]) == (
        "fix_in_prompt",
        "Jackson 3 moved JsonParser",
        True,
        "dana",
    )
    big.refresh_from_db()
    assert big.assignee == assignee and big.notes == "<b>r4</b>"
    assert AuditEvent.objects.filter(verb="cluster.update", target_id=str(big.pk)).count() == 1


def test_a_patch_with_bad_fields_is_a_400(client, fleet):
    _, big, _, _, _ = fleet
    headers = token(ADMIN)

    assert send(client, "patch", f"/api/clusters/{big.pk}", headers, {"size": 1}).status_code == 400
    assert send(client, "patch", f"/api/clusters/{big.pk}", headers, {"status": "done"}).status_code == 400
    assert send(client, "patch", f"/api/clusters/{big.pk}", headers, {"assignee": "nobody"}).status_code == 400
    response = client.patch(
        f"/api/clusters/{big.pk}", data="not json", content_type="application/json", headers=headers
    )
    assert response.status_code == 400


def test_an_owner_merges_and_splits(client, fleet):
    _, big, small, symbols, _ = fleet
    headers = token(MIGRATION_OWNER)

    merged = send(client, "post", f"/api/clusters/{small.pk}/merge", headers, {"into": big.pk})
    split = send(client, "post", f"/api/clusters/{big.pk}/split", headers, {"trace_ids": [symbols[0].trace_id]})

    assert merged.status_code == 200 and merged.json()["size"] == 5
    assert not FailureCluster.objects.filter(pk=small.pk).exists()
    assert split.status_code == 201
    new = split.json()
    assert new["size"] == 1 and new["id"] not in (big.pk, small.pk)
    assert ClusterMember.objects.get(attempt=symbols[0]).cluster_id == new["id"]
    assert set(AuditEvent.objects.values_list("verb", flat=True)) == {"cluster.merge", "cluster.split"}
    bad = send(client, "post", f"/api/clusters/{big.pk}/merge", headers, {"into": big.pk})
    assert bad.status_code == 400


def test_an_owner_starts_a_rebuild_and_gets_202_with_the_run(client, fleet, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = send(client, "post", "/api/migrations/jackson-3/clusters/rebuild", token(MIGRATION_OWNER))

    assert response.status_code == 202
    run = ClusteringRun.objects.get(pk=response.json()["id"])
    assert run.status == ClusteringRun.Status.QUEUED and run.mode == "full"
    assert len(callbacks) == 1
    assert AuditEvent.objects.filter(verb="cluster.rebuild").exists()


def test_a_session_post_without_csrf_is_refused(fleet):
    _, big, small, _, _ = fleet
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(make_user(role=MIGRATION_OWNER))

    response = csrf_client.post(
        f"/api/clusters/{small.pk}/merge", data=json.dumps({"into": big.pk}), content_type="application/json"
    )

    assert response.status_code == 403
    assert FailureCluster.objects.filter(pk=small.pk).exists()


def test_untrusted_snippets_come_back_as_data(client):
    migration = make_migration("xss")
    attempt = make_failed_verify(migration, "npm")
    attempt.verifier_results.update(snippet="<script>alert(1)</script> npm ERR! code ERESOLVE")
    clusters_rebuild(migration=migration, threshold=0.8)

    body = client.get("/api/migrations/xss/clusters", headers=token(VIEWER)).json()

    assert body["results"][0]["example_snippet"].startswith("<script>alert(1)</script>")


@pytest.mark.parametrize("n", [4, 40])
def test_list_and_detail_take_a_bounded_number_of_queries(client, n, django_assert_max_num_queries):
    migration = make_migration("many")
    causes = ["symbol", "assert", "crate", "npm"]
    for i in range(n):
        attempt = make_failed_verify(migration, causes[i % 4])
        make_pull_request(attempt)
    clusters_rebuild(migration=migration, threshold=0.8)
    headers = token(VIEWER)
    cluster = FailureCluster.objects.order_by("-size").first()

    # Three of them read the page's costs and fix rates; on the detail, two more read each rerun's cost.
    with django_assert_max_num_queries(9):
        assert client.get("/api/migrations/many/clusters", headers=headers).status_code == 200
    with django_assert_max_num_queries(13):
        assert client.get(f"/api/clusters/{cluster.pk}", headers=headers).status_code == 200


def test_the_openapi_document_describes_the_cluster_endpoints(client):
    doc = client.get("/api/openapi.json", headers=token(VIEWER)).json()

    assert {"/migrations/{slug}/clusters", "/clusters/{id}", "/clusters/{id}/merge", "/clusters/{id}/split"} <= set(
        doc["paths"]
    )
    assert "patch" in doc["paths"]["/clusters/{id}"]
    assert "Cluster" in doc["components"]["schemas"]
