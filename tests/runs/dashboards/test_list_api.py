"""The list endpoints search and sort like their pages: the same parameters, unknown values refused with a 400."""

import pytest
from django.utils import timezone

from fleetui.common.roles import VIEWER
from runs.fleet.models import PullRequest
from tests.factories import (
    make_api_token,
    make_attempt,
    make_migration,
    make_pull_request,
    make_repo,
    make_user,
    make_verifier_result,
)
from triage.clusters.models import ClusterMember, FailureCluster

pytestmark = pytest.mark.django_db


@pytest.fixture
def key():
    return make_api_token(make_user(role=VIEWER))


def get(client, key, url, **params):
    return client.get(url, params, headers={"Authorization": f"Bearer {key}"})


def repos(client, key, **params) -> list[str]:
    response = get(client, key, "/api/migrations/m/repos", **params)
    assert response.status_code == 200, response.content[:300]
    return [row["repo"] for row in response.json()["results"]]


def seed():
    migration = make_migration("m")
    attempts = {}
    for name, snippet, tries in (("payments/api", "cannot find symbol", 3), ("payments/web", "peer react", 1)):
        repo = make_repo(name)
        for _ in range(tries):
            attempts[name] = make_attempt(migration, repo)
        make_verifier_result(attempts[name], passed=False, snippet=snippet)
    attempts["search/indexer"] = make_attempt(migration, make_repo("search/indexer"))
    make_pull_request(attempts["payments/web"], state=PullRequest.State.OPEN)
    cluster = FailureCluster.objects.create(migration=migration, title="cannot find symbol", size=1, repos=1)
    ClusterMember.objects.create(
        cluster=cluster,
        migration=migration,
        attempt=attempts["payments/api"],
        repository=attempts["payments/api"].repository,
        joined_at=timezone.now(),
    )
    return migration, cluster


def test_the_repository_endpoint_searches_sorts_and_filters_like_the_table(client, key):
    _, cluster = seed()
    assert repos(client, key) == ["payments/api", "payments/web", "search/indexer"]
    assert repos(client, key, repo="PAYMENTS") == ["payments/api", "payments/web"]
    assert repos(client, key, q="peer react") == ["payments/web"]
    assert repos(client, key, order="-attempts") == ["payments/api", "payments/web", "search/indexer"]
    assert repos(client, key, order="-repo") == ["search/indexer", "payments/web", "payments/api"]
    assert repos(client, key, cluster=cluster.pk) == ["payments/api"]
    assert repos(client, key, pr_state="open") == ["payments/web"]
    assert repos(client, key, pr_state="none") == ["payments/api", "search/indexer"]


@pytest.mark.parametrize(
    "params", [{"order": "password"}, {"pr_state": "lost"}, {"cluster": "abc"}, {"cluster": "0"}, {"cluster": "9" * 30}]
)
def test_the_repository_endpoint_refuses_unknown_values(client, key, params):
    seed()
    response = get(client, key, "/api/migrations/m/repos", **params)
    assert response.status_code == 400
    assert "error" in response.json()


def test_the_cluster_endpoint_searches_by_repository_and_sorts(client, key):
    migration, cluster = seed()
    other = FailureCluster.objects.create(migration=migration, title="peer react", size=3, repos=3)
    ClusterMember.objects.create(
        cluster=other,
        migration=migration,
        attempt=make_attempt(migration, make_repo("web/shop")),
        repository=make_repo("web/app"),
        joined_at=timezone.now(),
    )

    def titles(**params):
        response = get(client, key, "/api/migrations/m/clusters", **params)
        assert response.status_code == 200, response.content[:300]
        return [row["title"] for row in response.json()["results"]]

    assert titles() == ["peer react", "cannot find symbol"]
    assert titles(order="size") == ["cannot find symbol", "peer react"]
    assert titles(order="title") == ["cannot find symbol", "peer react"]
    assert titles(repo="payments/") == ["cannot find symbol"]
    assert titles(repo="web/app") == ["peer react"]
    assert get(client, key, "/api/migrations/m/clusters", order="-password").status_code == 400


def test_the_openapi_document_names_the_new_parameters_with_their_values(client, key):
    spec = get(client, key, "/api/openapi.json").json()
    repo_params = {p["name"]: p for p in spec["paths"]["/migrations/{slug}/repos"]["get"]["parameters"] if "name" in p}
    assert {"repo", "q", "cluster", "pr_state", "order"} <= set(repo_params)
    assert "-last_activity" in repo_params["order"]["schema"]["enum"]
    cluster_params = {
        p["name"]: p for p in spec["paths"]["/migrations/{slug}/clusters"]["get"]["parameters"] if "name" in p
    }
    assert {"q", "repo", "order"} <= set(cluster_params)
    assert {"-size", "status", "-last_seen_at"} <= set(cluster_params["order"]["schema"]["enum"])
