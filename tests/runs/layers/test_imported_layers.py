"""Imported attempts carry their layer, the API answers it, and a migration's repositories filter by it."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from fleetui.common.roles import ROLES, VIEWER
from runs.demo.tracing import experiment, fleet_tags, tracking, write_trace
from runs.fleet.models import Attempt
from runs.imports.services import import_run_execute
from tests.factories import make_api_token, make_user
from tests.mlflow_support import verify_span

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def role_groups():
    """The role groups a data migration makes, again after an earlier test flushed the database."""
    for role in ROLES:
        Group.objects.get_or_create(name=role)


NPM_503 = (
    "npm ERR! code E503\nnpm ERR! 503 Service Unavailable - GET https://registry.npmjs.org/react - Service Unavailable"
)
ASSERTION = (
    "[ERROR] LedgerTest.posts:42 expected: <42> but was: <41>\n[ERROR] Tests run: 12, Failures: 1\nBUILD FAILURE"
)
PASSING = "[INFO] Tests run: 12, Failures: 0, Errors: 0, Skipped: 0\n[INFO] BUILD SUCCESS"


@pytest.fixture
def store(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with tracking(uri):
        yield type("Store", (), {"uri": uri, "experiment_id": experiment("fleet/junit5")})


@pytest.fixture
def key():
    return make_api_token(make_user(role=VIEWER))


def _trace(store, repo: str, verifier: str, passed: bool, output: str, phase: str = "migration") -> None:
    write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo=repo, phase=phase),
        spans=[verify_span(verifier=verifier, passed=passed, output=output)],
    )


def _import(store) -> None:
    import_run_execute(tracking_uri=store.uri, trigger="test")


def _layers() -> dict[tuple[str, str], str]:
    return {(a.repository.full_name, a.phase): a.layer for a in Attempt.objects.select_related("repository")}


def _get(client, key, url, **params):
    return client.get(url, params, headers={"Authorization": f"Bearer {key}"})


def _seed(store) -> None:
    _trace(store, "acme/legacy", "maven", False, ASSERTION, phase="baseline")
    _trace(store, "acme/legacy", "maven", False, ASSERTION)
    _trace(store, "acme/web", "npm", False, NPM_503)
    _trace(store, "acme/tools", "maven", False, ASSERTION)
    _trace(store, "acme/empty", "pytest", True, "collected 0 items\n\n=== no tests ran in 0.01s ===")
    _trace(store, "acme/core", "maven", True, PASSING)
    _import(store)


def test_each_imported_attempt_carries_the_layer_its_failure_or_pass_belongs_to(store):
    _seed(store)
    assert _layers() == {
        ("acme/legacy", "baseline"): "pre-existing",
        ("acme/legacy", "migration"): "pre-existing",
        ("acme/web", "migration"): "infrastructure",
        ("acme/tools", "migration"): "agent",
        ("acme/empty", "migration"): "unverifiable",
        ("acme/core", "migration"): "verified",
    }


def test_a_baseline_imported_after_the_failure_makes_it_pre_existing(store):
    _trace(store, "acme/tools", "maven", False, ASSERTION)
    _import(store)
    assert _layers() == {("acme/tools", "migration"): "agent"}
    _trace(store, "acme/tools", "maven", False, ASSERTION, phase="baseline")
    _import(store)
    assert _layers()[("acme/tools", "migration")] == "pre-existing"


def test_the_attempts_endpoint_answers_each_attempts_layer(store, client, key):
    _seed(store)
    response = _get(client, key, "/api/migrations/junit5/attempts", repo="acme/web")
    assert response.status_code == 200, response.content[:300]
    assert [row["layer"] for row in response.json()["results"]] == ["infrastructure"]


def test_the_repositories_endpoint_keeps_those_whose_latest_attempt_has_the_layer(store, client, key):
    _seed(store)

    def repos(layer: str) -> list[str]:
        response = _get(client, key, "/api/migrations/junit5/repos", layer=layer)
        assert response.status_code == 200, response.content[:300]
        return [row["repo"] for row in response.json()["results"]]

    assert repos("infrastructure") == ["acme/web"]
    assert repos("pre-existing") == ["acme/legacy"]
    assert repos("unverifiable") == ["acme/empty"]
    assert repos("verified") == ["acme/core"]
    assert _get(client, key, "/api/migrations/junit5/repos", layer="flaky").status_code == 400


def test_the_repositories_page_filters_by_layer(store, client):
    _seed(store)
    client.force_login(make_user(role=VIEWER))
    page = client.get("/migrations/junit5/repos/", {"layer": "agent"}).content.decode()
    assert "acme/tools" in page
    assert "acme/web" not in page


def test_the_schema_migration_gives_existing_attempts_their_layer(store):
    _seed(store)
    Attempt.objects.update(layer="")
    module = importlib.import_module("runs.migrations.0012_failure_layers")
    module.layers_backfill(apps, None)
    assert _layers()[("acme/web", "migration")] == "infrastructure"
    assert _layers()[("acme/legacy", "migration")] == "pre-existing"
    assert _layers()[("acme/empty", "migration")] == "unverifiable"
