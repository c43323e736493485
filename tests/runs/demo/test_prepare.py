"""`rundemo --prepare-only` twice: the second run redoes nothing whose inputs did not change, yet starts the fakes."""

import shutil
import time
from io import StringIO
from pathlib import Path

import mlflow
import pytest
from django.core.management import call_command

from notifications.slack.models import DirectorySyncRun, SlackChannel
from runs.demo.fleet import fleet_plan
from runs.demo.state import DemoState
from runs.demo.writer import experiment_ensure, write_attempt_trace
from runs.fleet.models import Attempt, PullRequest
from runs.github.models import PullRequestSyncRun
from runs.imports.models import ImportRun
from triage.clusters.models import ClusteringRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
REPOS = "12"


@pytest.fixture
def demo_folder(tmp_path, settings):
    settings.DATA_DIR = tmp_path
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings.STATIC_ROOT = tmp_path / "staticfiles"
    # The static sources as they are now: the fingerprint reads modification times.
    settings.STATICFILES_DIRS = [shutil.copytree(Path(settings.BASE_DIR) / "static", tmp_path / "static-sources")]
    previous = mlflow.get_tracking_uri()
    yield tmp_path
    mlflow.set_tracking_uri(previous)


def prepare() -> str:
    out = StringIO()
    call_command("rundemo", "--prepare-only", "--repos", REPOS, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "imports": ImportRun.objects.count(),
        "clusterings": ClusteringRun.objects.count(),
        "pull request syncs": PullRequestSyncRun.objects.count(),
        "slack syncs": DirectorySyncRun.objects.count(),
    }


def test_a_second_prepare_reuses_every_step_and_still_starts_the_fake_slack_and_github(demo_folder):
    first = prepare()
    after_first = counts()
    attempts = Attempt.objects.count()
    assert attempts > 20 and PullRequest.objects.filter(synced_at__isnull=False).exists()
    assert SlackChannel.objects.exists()
    assert "Writing" in first and "traces in batches" in first

    second = prepare()

    assert counts() == after_first
    assert Attempt.objects.count() == attempts
    for reused in ("Demo fleet: already written", "Import: the MLflow store has not changed", "Clusters: no trace"):
        assert reused in second
    assert "Static files" in second and "unchanged since the last collectstatic" in second
    assert "Fake Slack on http://127.0.0.1:" in second and "channels and owners unchanged" in second
    assert "Fake GitHub on http://127.0.0.1:" in second and "all read since they last changed" in second
    assert "Writing" not in second


def test_a_new_trace_in_mlflow_is_imported_and_clustered_by_the_next_prepare_and_nothing_else_is_redone(demo_folder):
    prepare()
    before = counts()
    uri = f"sqlite:///{demo_folder / 'mlflow.db'}"
    fleet = fleet_plan(seed=7, repo_count=int(REPOS), anchor_ms=1_760_000_400_000)
    failed = next(a for a in fleet.attempts if a.phase == "migration" and a.failure_cause and not a.damage)
    failed.number += 10  # a later attempt of the same repository, written now, as a rerun writes it
    failed.started_at_ms = int(time.time() * 1000) - 600_000
    experiment = experiment_ensure(migration_slug=failed.migration.slug, tracking_uri=uri)
    write_attempt_trace(failed, tracking_uri=uri, experiment_id=experiment)

    again = prepare()

    after = counts()
    assert after["imports"] == before["imports"] + 1
    assert after["clusterings"] > before["clusterings"]
    assert after["pull request syncs"] == before["pull request syncs"]
    assert after["slack syncs"] == before["slack syncs"]
    assert Attempt.objects.filter(number=failed.number, repository__full_name=failed.repo.full_name).exists()
    assert "Import of the traces: done" in again and "Demo fleet: already written" in again


def test_a_lost_state_file_only_costs_time(demo_folder):
    prepare()
    attempts = Attempt.objects.count()
    (demo_folder / "demo-state.json").unlink()

    again = prepare()

    assert "The demo fleet already exists" in again  # seed_demo finds the traces and writes none
    assert Attempt.objects.count() == attempts
    assert DemoState(demo_folder).steps.keys() >= {"fleet", "import", "clusters", "slack", "github", "static"}
