"""A migration's counts are kept when an import finishes, and the pages show the same numbers kept as counted live."""

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from fleetui.common.roles import ROLES
from runs.dashboards.counts import (
    migration_counts_forget,
    migration_counts_many,
    migration_counts_refresh,
    migrations_with_counts,
)
from runs.demo.tracing import experiment, fleet_tags, tracking, write_trace
from runs.fleet.counts import MigrationCounts
from runs.fleet.models import Migration
from runs.imports.services import import_run_execute
from runs.management.commands._pages_fleet import seed
from tests.mlflow_support import verify_span

FAILING = "[ERROR] LedgerTest.posts:42 expected: <42> but was: <41>\nBUILD FAILURE"
PASSING = "[INFO] Tests run: 12, Failures: 0\n[INFO] BUILD SUCCESS"


@pytest.fixture(autouse=True)
def role_groups(db):
    """The role groups a data migration makes, again after an earlier test flushed the database."""
    for role in ROLES:
        Group.objects.get_or_create(name=role)


@pytest.fixture
def admin(db):
    from runs.accounts.services import user_with_role_create

    client = Client()
    client.force_login(user_with_role_create(username="counts", role="admin", password="counts-unused"))
    return client


@pytest.fixture
def store(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with tracking(uri):
        yield type("Store", (), {"uri": uri, "experiment_id": experiment("fleet/junit5")})


def _trace(store, repo: str, passed: bool) -> None:
    write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo=repo),
        spans=[verify_span(verifier="maven", passed=passed, output=PASSING if passed else FAILING)],
    )


def _numbers(counted) -> dict:
    summary = counted.summary
    return {
        "repos": summary.repos,
        "attempts": summary.attempts,
        "by_state": summary.by_state,
        "origins": (summary.origins.agent, summary.origins.pre_existing),
        "failures_by_day": counted.failures_by_day,
        "span": (counted.first_ended_at, counted.last_ended_at),
        "burndown": (counted.burndown_days, counted.burndown_series),
        "pass_rates": counted.verifier_pass_rates,
        "revisions": counted.prompt_revisions,
        "histogram": counted.attempts_histogram,
    }


@pytest.mark.django_db(transaction=True)
def test_a_finished_import_keeps_the_counts_of_the_migrations_it_wrote(store):
    _trace(store, "acme/ledger", passed=False)
    _trace(store, "acme/web", passed=True)
    import_run_execute(tracking_uri=store.uri, trigger="test")

    migration = Migration.objects.get()
    kept = MigrationCounts.objects.get(migration=migration)
    assert kept.attempts == 2
    assert kept.repos_by_state == {"verify_failed": 1, "succeeded": 1}

    _trace(store, "acme/tools", passed=False)
    import_run_execute(tracking_uri=store.uri, trigger="test")

    kept.refresh_from_db()
    assert kept.attempts == 3
    assert kept.repos_by_state == {"verify_failed": 2, "succeeded": 1}


@pytest.mark.django_db
def test_kept_counts_are_the_numbers_counted_live():
    seed(scale=0.002, migrations=2, progress=None)
    migration_counts_forget()

    live = migration_counts_many(migrations=list(migrations_with_counts()), detail=True)
    migration_counts_refresh()
    kept = migration_counts_many(migrations=list(migrations_with_counts()), detail=True)

    assert not any(c.kept for c in live.values()) and all(c.kept for c in kept.values())
    assert {pk: _numbers(c) for pk, c in kept.items()} == {pk: _numbers(c) for pk, c in live.items()}


@pytest.mark.django_db
def test_the_overview_and_dashboard_show_the_same_numbers_kept_as_counted_live(admin):
    fleet = seed(scale=0.002, migrations=2, progress=None)
    migration_counts_forget()
    pages = [reverse("home"), reverse("migration-detail", args=[fleet.first_slug])]

    live = [admin.get(url) for url in pages]
    migration_counts_refresh()
    kept = [admin.get(url) for url in pages]
    migration_counts_forget()
    again = [admin.get(url) for url in pages]

    for before, after, forgotten in zip(live, kept, again, strict=True):
        assert before.status_code == after.status_code == forgotten.status_code == 200
        assert _page(before) == _page(after) == _page(forgotten)


def _page(response) -> str:
    """The page without what differs on every request (CSRF tokens, script nonces)."""
    text = response.content.decode()
    return re.sub(r'(csrfmiddlewaretoken" value="|X-CSRFToken": "|nonce=")[^"]*', r"\1", text)
