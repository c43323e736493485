"""A failing fleet for canary tests: repositories failing on one cause, clustered, and helpers to settle a canary."""

from __future__ import annotations

import sys

from runs.reruns.dispatch import rerun_item_execute
from runs.reruns.models import RerunBatch
from runs.reruns.runners.command import CommandRunner
from runs.reruns.services import rerun_results_link
from tests.factories import make_failed_verify, make_migration, make_prompt_revision, make_repo, make_succeeded
from triage.clusters.models import ClusteringRun, FailureCluster
from triage.clusters.services import clustering_run_execute

NAMES = [f"acme/svc-{i:02d}" for i in range(10)]


def command(code: int = 0) -> CommandRunner:
    runner = CommandRunner(template=f"{sys.executable} -c 'import sys; sys.exit({code})' {{repo}}", timeout=20)
    runner.check()
    return runner


def cluster(migration, mode=ClusteringRun.Mode.FULL) -> None:
    run = clustering_run_execute(migration_id=migration.pk, mode=mode)
    assert run is not None and run.status == ClusteringRun.Status.SUCCEEDED, run and run.error


def failing_fleet(slug: str = "canary-mig", names: list[str] = NAMES):
    """Ten repositories failing on the same missing symbol, in one cluster."""
    migration = make_migration(slug)
    make_prompt_revision(migration, 1, "Migrate to JUnit 5.")
    repos = {name: make_repo(name) for name in names}
    for repo in repos.values():
        make_failed_verify(migration, "symbol", repo=repo)
    cluster(migration)
    (only,) = FailureCluster.objects.filter(migration=migration)
    return migration, repos, only


def canary_names(batch) -> list[str]:
    return sorted(batch.items.filter(canary=True).values_list("repository__full_name", flat=True))


def settle_canary(batch, repos, *, fixed: int, new_cause: str | None = None, new: int = 0) -> RerunBatch:
    """Run the canary's items, give `fixed` of them a passing attempt, `new` of them a failure of `new_cause`
    and the rest the same failure again; import (link) and cluster as the pipeline would."""
    migration = batch.migration
    names = canary_names(batch)
    for item in batch.items.filter(canary=True):
        rerun_item_execute(item_id=item.pk, runner=command(0))
    for i, name in enumerate(names):
        if i < fixed:
            make_succeeded(migration, repos[name])
        elif i < fixed + new:
            make_failed_verify(migration, new_cause, repo=repos[name])
        else:
            make_failed_verify(migration, "symbol", repo=repos[name])
    rerun_results_link(batch=RerunBatch.objects.get(pk=batch.pk))
    cluster(migration, ClusteringRun.Mode.INCREMENTAL)
    return RerunBatch.objects.get(pk=batch.pk)
