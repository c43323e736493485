import pytest
from django.utils import timezone

from tests.factories import make_failed_verify, make_migration
from triage.clusters.models import ClusteringRun, ClusterMember, FailureCluster
from triage.clusters.services import clustering_run_execute, clusters_assign_new, clusters_rebuild
from triage.clusters.tasks import clusters_assign_new_task

pytestmark = pytest.mark.django_db
Status = FailureCluster.Status


def assign(migration):
    return clusters_assign_new(migration=migration, threshold=0.8)


def cluster_of(attempt) -> FailureCluster:
    return ClusterMember.objects.get(attempt=attempt).cluster


def test_a_new_failure_joins_the_nearest_existing_cluster():
    migration = make_migration()
    symbols = [make_failed_verify(migration, "symbol") for _ in range(3)]
    asserts = [make_failed_verify(migration, "assert") for _ in range(3)]
    clusters_rebuild(migration=migration, threshold=0.8)

    late_symbol = make_failed_verify(migration, "symbol")
    late_assert = make_failed_verify(migration, "assert")
    counts = assign(migration)

    assert counts == {"failures": 2, "clusters": 2, "new_clusters": 0, "assigned": 2}
    assert cluster_of(late_symbol) == cluster_of(symbols[0])
    assert cluster_of(late_assert) == cluster_of(asserts[0])
    assert cluster_of(symbols[0]).size == 4


def test_new_failures_of_an_unseen_cause_start_one_new_cluster():
    migration = make_migration()
    make_failed_verify(migration, "symbol")
    clusters_rebuild(migration=migration, threshold=0.8)

    crates = [make_failed_verify(migration, "crate") for _ in range(3)]
    counts = assign(migration)

    assert counts["new_clusters"] == 1
    new = cluster_of(crates[0])
    assert {cluster_of(a) for a in crates} == {new}
    assert new.size == 3 and new.status == Status.NEW and new.exemplars


def test_incremental_assignment_leaves_existing_memberships_alone():
    migration = make_migration()
    attempts = [make_failed_verify(migration, "symbol") for _ in range(2)]
    clusters_rebuild(migration=migration, threshold=0.8)
    past = timezone.now() - timezone.timedelta(days=2)
    ClusterMember.objects.update(joined_at=past, why="manual", score=0.5)
    before = list(ClusterMember.objects.order_by("pk").values_list("pk", "cluster_id", "why", "score", "joined_at"))

    make_failed_verify(migration, "symbol")
    make_failed_verify(migration, "npm")
    assign(migration)

    after = list(
        ClusterMember.objects.filter(attempt__in=attempts)
        .order_by("pk")
        .values_list("pk", "cluster_id", "why", "score", "joined_at")
    )
    assert after == before


def test_a_resolved_cluster_that_gains_a_member_incrementally_becomes_regressed():
    migration = make_migration()
    attempts = [make_failed_verify(migration, "symbol") for _ in range(2)]
    clusters_rebuild(migration=migration, threshold=0.8)
    FailureCluster.objects.filter(pk=cluster_of(attempts[0]).pk).update(status=Status.RESOLVED)

    make_failed_verify(migration, "symbol")
    assign(migration)

    assert cluster_of(attempts[0]).status == Status.REGRESSED


def test_a_retried_repository_leaves_with_its_old_attempt():
    migration = make_migration()
    first = make_failed_verify(migration, "symbol")
    other = make_failed_verify(migration, "symbol")
    clusters_rebuild(migration=migration, threshold=0.8)

    retry = make_failed_verify(migration, "npm", repo=first.repository)
    assign(migration)

    assert not ClusterMember.objects.filter(attempt=first).exists()
    assert cluster_of(other).size == 1
    assert cluster_of(retry) != cluster_of(other)


def test_assignment_with_nothing_new_changes_nothing():
    migration = make_migration()
    make_failed_verify(migration, "symbol")
    clusters_rebuild(migration=migration, threshold=0.8)
    before = list(FailureCluster.objects.values_list("pk", "size", "updated_at"))

    counts = assign(migration)

    assert counts["failures"] == 0
    assert list(FailureCluster.objects.values_list("pk", "size", "updated_at")) == before


def test_the_after_import_task_records_an_incremental_run_per_migration():
    migrations = [make_migration(), make_migration()]
    for migration in migrations:
        make_failed_verify(migration, "symbol")

    clusters_assign_new_task()

    runs = ClusteringRun.objects.filter(mode=ClusteringRun.Mode.INCREMENTAL, status=ClusteringRun.Status.SUCCEEDED)
    assert sorted(runs.values_list("migration_id", flat=True)) == sorted(m.pk for m in migrations)
    assert FailureCluster.objects.count() == 2


def test_a_failing_run_records_its_error_and_does_not_block_the_next(monkeypatch):
    migration = make_migration()
    make_failed_verify(migration, "symbol")

    def broken(**kwargs):
        raise RuntimeError("vectoriser ran out of memory")

    monkeypatch.setattr("triage.clusters.services.clustering_runs.clusters_rebuild", broken)
    run = clustering_run_execute(migration_id=migration.pk)
    monkeypatch.undo()
    retry = clustering_run_execute(migration_id=migration.pk)

    assert run.status == ClusteringRun.Status.FAILED and "out of memory" in run.error
    assert retry.status == ClusteringRun.Status.SUCCEEDED


def test_assignment_gives_the_same_answer_with_a_reused_fit():
    from triage.engine import clustering

    texts = {
        "a": "[ERROR] cannot find symbol\n  symbol: class JsonParser",
        "b": "error[E0433]: failed to resolve: use of undeclared crate or module `tokio`",
    }
    stored = [
        clustering.ClusterExemplars(key, "", [clustering.prepare_failure(key, t).normalized])
        for key, t in texts.items()
    ]
    fresh = [
        clustering.prepare_failure("n1", texts["a"] + "\n  location: package com.fasterxml.jackson.core"),
        clustering.prepare_failure("n2", "npm ERR! code ERESOLVE unable to resolve dependency tree"),
    ]
    clustering._INDEX_CACHE.clear()

    cold = clustering.assign_failures(fresh, stored, threshold=0.5)
    warm = clustering.assign_failures(fresh, stored, threshold=0.5)
    other = clustering.assign_failures(fresh, stored[1:], threshold=0.5)

    assert cold == warm
    assert cold[0][0] == "a" and cold[1][0] is None
    assert other[0][0] is None


def test_after_an_import_one_assignment_task_is_queued_once_the_writes_commit(
    monkeypatch, django_capture_on_commit_callbacks
):
    from triage.clusters import tasks
    from triage.clusters.services import after_import

    queued = []
    monkeypatch.setattr(tasks.clusters_assign_new_task, "delay", lambda *a, **k: queued.append(a))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        after_import(None)
    assert queued == [] and len(callbacks) == 1
    callbacks[0]()
    assert queued == [()]


def test_a_broker_failure_after_an_import_is_logged_not_raised(monkeypatch, django_capture_on_commit_callbacks, caplog):
    from triage.clusters import tasks
    from triage.clusters.services import after_import

    def down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.clusters_assign_new_task, "delay", down)

    with django_capture_on_commit_callbacks(execute=True):
        after_import(None)

    assert "could not queue cluster assignment" in caplog.text


def _missing_module(migration, module: str):
    from runs.fleet.models import Outcome
    from tests.factories import make_attempt, make_repo, make_verifier_result

    repo = make_repo()
    attempt = make_attempt(migration, repo, outcome=Outcome.VERIFY_FAILED)
    name = repo.full_name.split("/")[-1]
    snippet = (
        f"src/{name}/logs.py:{attempt.pk % 50 + 1}: in <module>\n    import {module}\n"
        f"E   ModuleNotFoundError: No module named '{module}'\nERROR tests/test_{name}.py"
    )
    make_verifier_result(attempt, kind="pytest", snippet=snippet)
    return attempt


def test_members_keep_their_deciding_line_and_a_new_failure_joins_only_the_cluster_of_its_cause():
    migration = make_migration()
    structlog = [_missing_module(migration, "structlog") for _ in range(2)]
    jsonlogger = [_missing_module(migration, "pythonjsonlogger") for _ in range(2)]
    clusters_rebuild(migration=migration, threshold=0.8)
    assert cluster_of(structlog[0]) != cluster_of(jsonlogger[0])
    member = ClusterMember.objects.get(attempt=structlog[0])
    assert member.deciding_line == "E   ModuleNotFoundError: No module named 'structlog'"
    assert "pythonjsonlogger" in cluster_of(jsonlogger[0]).title

    late = _missing_module(migration, "pythonjsonlogger")
    assign(migration)
    joined = ClusterMember.objects.get(attempt=late)
    assert joined.cluster == cluster_of(jsonlogger[0]) and joined.why == ClusterMember.Why.EXACT


def _convergence(migration, version: str):
    from runs.fleet.models import Outcome
    from tests.factories import make_attempt, make_repo, make_verifier_result

    repo = make_repo()
    attempt = make_attempt(migration, repo, outcome=Outcome.VERIFY_FAILED)
    snippet = (
        f"[ERROR] Dependency convergence error for com.google.guava:guava:jar:{version} paths to dependency are:\n"
        f"[ERROR] +-com.acme:{repo.full_name.split('/')[-1]}:1.0.0-SNAPSHOT\n"
    )
    make_verifier_result(attempt, kind="maven", snippet=snippet)
    return attempt


def test_a_cluster_that_gains_a_member_of_another_version_stops_claiming_one_version_in_its_title():
    migration = make_migration()
    first = [_convergence(migration, "2.7.16") for _ in range(2)]
    clusters_rebuild(migration=migration, threshold=0.8)
    assert cluster_of(first[0]).title == (
        "Dependency convergence error for com.google.guava:guava:jar:2.7.16 paths to dependency are:"
    )

    late = _convergence(migration, "3.0.1")
    assign(migration)
    cluster = cluster_of(late)
    assert cluster == cluster_of(first[0])
    assert cluster.title == "Dependency convergence error for com.google.guava:guava:jar:… paths to dependency are:"


def test_a_title_a_person_set_stays_when_the_cluster_gains_members():
    migration = make_migration()
    first = _convergence(migration, "2.7.16")
    clusters_rebuild(migration=migration, threshold=0.8)
    FailureCluster.objects.filter(pk=cluster_of(first).pk).update(title="guava drift", title_locked=True)

    _convergence(migration, "3.0.1")
    assign(migration)
    assert cluster_of(first).title == "guava drift"
