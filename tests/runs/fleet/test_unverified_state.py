"""A repository whose latest attempt passed but verified nothing is unverified: never counted as a success."""

import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.utils import timezone

from fleetui.common import charts
from fleetui.common.roles import ROLES, VIEWER
from runs.dashboards import selectors as dashboards_selectors
from runs.dashboards.counts import migration_counts_refresh
from runs.demo.tracing import experiment, fleet_tags, tracking, write_trace
from runs.fleet.counts import MigrationCounts
from runs.fleet.models import Layer, Migration, Outcome, RepositoryState, Target
from runs.fleet.selectors import target_state_counts
from runs.imports.services import import_run_execute
from runs.reruns.selection import rerun_selection_resolve
from tests.factories import make_api_token, make_attempt, make_migration, make_repo, make_user
from tests.mlflow_support import verify_span

PASSING = "[INFO] Tests run: 12, Failures: 0, Errors: 0, Skipped: 0\n[INFO] BUILD SUCCESS"
NO_TESTS = "collected 0 items\n\n=== no tests ran in 0.01s ==="


@pytest.fixture
def store(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with tracking(uri):
        yield type("Store", (), {"uri": uri, "experiment_id": experiment("fleet/junit5")})


def _trace(store, repo: str, verifier: str, output: str, attempt: int = 1) -> None:
    write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo=repo, attempt=attempt),
        spans=[verify_span(verifier=verifier, passed=True, output=output)],
    )


def _import_fleet(store) -> Migration:
    _trace(store, "acme/core", "maven", PASSING)
    _trace(store, "acme/empty", "pytest", NO_TESTS)
    import_run_execute(tracking_uri=store.uri, trigger="test")
    return Migration.objects.get(slug="junit5")


def _state(migration: Migration, repo: str) -> str:
    return Target.objects.get(migration=migration, repository__full_name=repo).state


@pytest.mark.django_db(transaction=True)
def test_an_imported_fleet_counts_a_verified_pass_as_succeeded_and_an_unverifiable_pass_as_unverified(store):
    migration = _import_fleet(store)
    assert target_state_counts(migration=migration) == {"succeeded": 1, "unverified": 1}
    assert _state(migration, "acme/empty") == RepositoryState.UNVERIFIED


@pytest.mark.django_db(transaction=True)
def test_the_kept_counts_of_an_imported_fleet_keep_the_unverified_pass_apart(store):
    migration = _import_fleet(store)
    migration_counts_refresh(migration_ids=[migration.pk])
    kept = MigrationCounts.objects.get(migration=migration).repos_by_state
    assert kept == {"succeeded": 1, "unverified": 1}


@pytest.mark.django_db(transaction=True)
def test_the_migrations_endpoint_counts_the_unverified_pass_apart_from_the_succeeded_one(store, client):
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    _import_fleet(store)
    key = make_api_token(make_user(role=VIEWER))
    response = client.get("/api/migrations", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.content[:300]
    (row,) = response.json()["results"]
    assert row["by_state"]["succeeded"] == 1
    assert row["by_state"]["unverified"] == 1
    repos = client.get(
        "/api/migrations/junit5/repos", {"state": "unverified"}, headers={"Authorization": f"Bearer {key}"}
    )
    assert [r["repo"] for r in repos.json()["results"]] == ["acme/empty"]


@pytest.mark.django_db(transaction=True)
def test_a_later_verified_pass_moves_an_unverified_repository_to_succeeded(store):
    _trace(store, "acme/empty", "pytest", NO_TESTS)
    import_run_execute(tracking_uri=store.uri, trigger="test")
    migration = Migration.objects.get(slug="junit5")
    assert _state(migration, "acme/empty") == RepositoryState.UNVERIFIED
    _trace(store, "acme/empty", "pytest", "collected 12 items\n\n=== 12 passed in 0.52s ===", attempt=2)
    import_run_execute(tracking_uri=store.uri, trigger="test")
    assert _state(migration, "acme/empty") == RepositoryState.SUCCEEDED


@pytest.mark.django_db
def test_the_data_migration_moves_an_existing_unverifiable_pass_to_unverified_and_back():
    migration = make_migration()
    empty = make_attempt(migration, make_repo("acme/empty"), outcome=Outcome.SUCCEEDED, layer=Layer.UNVERIFIABLE)
    make_attempt(migration, make_repo("acme/core"), outcome=Outcome.SUCCEEDED, layer=Layer.VERIFIED)
    Target.objects.filter(latest_attempt=empty).update(state=RepositoryState.SUCCEEDED)
    MigrationCounts.objects.create(migration=migration, repos_by_state={"succeeded": 2})
    module = importlib.import_module("runs.migrations.0019_feature_gaps")
    module.unverified_from_succeeded(apps, None)
    assert _state(migration, "acme/empty") == RepositoryState.UNVERIFIED
    assert _state(migration, "acme/core") == RepositoryState.SUCCEEDED
    kept = MigrationCounts.objects.get(migration=migration).repos_by_state
    assert kept == {"succeeded": 1, "unverified": 1}
    module.succeeded_from_unverified(apps, None)
    assert _state(migration, "acme/empty") == RepositoryState.SUCCEEDED


@pytest.mark.django_db
def test_the_funnel_leaves_an_unverified_pass_out_of_verifiers_pass_and_says_so():
    migration = make_migration()
    make_attempt(migration, make_repo("acme/empty"), outcome=Outcome.SUCCEEDED, layer=Layer.UNVERIFIABLE)
    make_attempt(migration, make_repo("acme/core"), outcome=Outcome.SUCCEEDED, layer=Layer.VERIFIED)
    funnel = dashboards_selectors.migration_funnel(migration=migration)
    assert funnel.count("ran") == 2
    assert funnel.count("verified") == 1
    assert funnel.count("approved") == 1
    assert funnel.unverified == 1


@pytest.mark.django_db
def test_the_burndown_counts_an_unverified_pass_in_its_own_state():
    migration = make_migration()
    make_attempt(migration, make_repo("acme/empty"), outcome=Outcome.SUCCEEDED, layer=Layer.UNVERIFIABLE)
    events = list(dashboards_selectors.migration_burndown_events(migration=migration))
    assert [state for _, _, state in events] == ["unverified"]
    today = timezone.localdate()
    _, series = charts.burndown_series(events, start=events[0][1], end=max(today, events[0][1]), total=1)
    assert series["unverified"][-1] == 1
    assert series["succeeded"][-1] == 0


@pytest.mark.django_db
def test_an_unverified_repository_named_for_a_rerun_is_selected_like_a_passed_one():
    migration = make_migration()
    make_attempt(migration, make_repo("acme/empty"), outcome=Outcome.SUCCEEDED, layer=Layer.UNVERIFIABLE)
    selection = rerun_selection_resolve(migration=migration, repos=["acme/empty"])
    assert [t.repository.full_name for t in selection.targets] == ["acme/empty"]
