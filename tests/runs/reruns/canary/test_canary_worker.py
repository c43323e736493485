"""A canary on real Celery worker processes: the agent writes MLflow traces, the worker imports and clusters them,
and the canary's verdict expands the batch (or pauses it) with no one calling anything."""

import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group

from fleetui.common.roles import MIGRATION_OWNER, REVIEWER, VIEWER
from runs.demo.tracing import experiment, fleet_tags, tracking, write_trace
from runs.fleet.models import AuditEvent, Migration
from runs.imports.services import import_run_execute
from runs.reruns.canary_rules import CanarySpec
from runs.reruns.models import RerunBatch, RerunItem, RerunOutcome, RerunPhase, RerunState
from runs.reruns.services import rerun_batch_create
from tests.celery_support import ROOT, broker_in_use, wait_for, worker_process
from tests.conftest import need_service
from tests.factories import make_user
from tests.mlflow_support import verify_span
from triage.clusters.models import ClusteringRun, FailureCluster
from triage.clusters.services import clustering_run_execute

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.services]

MIGRATION = "canary-java-21"
PROMPT = "Migrate the service to Java 21."
NAMES = [f"acme/orders-{i}" for i in range(6)]
FAILURE = "\n".join(
    [
        "[ERROR] COMPILATION ERROR :",
        "[ERROR] /src/main/java/com/acme/Api.java:[12,8] cannot find symbol",
        "[ERROR]   symbol:   class javax.annotation.Generated",
        "[INFO] BUILD FAILURE",
    ]
)
# The agent: every repository passes once the prompt names jakarta; it logs each dispatch in order.
AGENT = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from runs.demo.tracing import experiment, fleet_tags, write_trace
from tests.mlflow_support import verify_span

repo, attempt, revision, prompt_file, log = sys.argv[1:6]
with open(log, "a") as handle:
    handle.write(repo + "\\n")
prompt = open(prompt_file, encoding="utf-8").read()
passed = "jakarta" in prompt.lower()
write_trace(
    experiment_id=experiment("fleet/{MIGRATION}"),
    tags=fleet_tags(migration={MIGRATION!r}, repo=repo, attempt=int(attempt), prompt_rev=revision or "1"),
    spans=[verify_span(passed=passed, output="BUILD SUCCESS" if passed else {FAILURE!r})],
    prompt=prompt,
)
"""


@pytest.fixture(autouse=True)
def roles():
    """An earlier transactional test may have flushed the role groups the data migration made."""
    for role in (MIGRATION_OWNER, REVIEWER, VIEWER):
        Group.objects.get_or_create(name=role)


def redis_available() -> bool:
    if not django_settings.REDIS_URL:
        return False
    try:
        import redis

        redis.Redis.from_url(django_settings.REDIS_URL, socket_timeout=2).ping()
    except Exception:
        return False
    return True


@pytest.fixture(params=["embedded", "redis"])
def broker(request, tmp_path, settings):
    if request.param == "redis":
        need_service("Redis (REDIS_URL)", redis_available())
        import redis

        url = django_settings.REDIS_URL
        redis.Redis.from_url(url).flushdb()
    else:
        url = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    settings.CELERY_BROKER_URL = url
    with broker_in_use(url):
        yield url


def clustered_fleet(uri: str) -> FailureCluster:
    """First attempts written through MLflow's tracing API, all failing on one missing symbol; imported, clustered."""
    with tracking(uri):
        exp = experiment(f"fleet/{MIGRATION}")
        for repo in NAMES:
            write_trace(
                experiment_id=exp,
                tags=fleet_tags(migration=MIGRATION, repo=repo),
                spans=[verify_span(passed=False, output=FAILURE)],
                prompt=PROMPT,
            )
    assert import_run_execute(tracking_uri=uri, trigger="test").status == "succeeded"
    migration = Migration.objects.get(slug=MIGRATION)
    run = clustering_run_execute(migration_id=migration.pk, mode=ClusteringRun.Mode.FULL)
    assert run is not None and run.status == ClusteringRun.Status.SUCCEEDED
    return FailureCluster.objects.get(migration=migration)


def agent_env(folder: Path, uri: str, log: Path) -> dict[str, str]:
    script = folder / "agent.py"
    script.write_text(AGENT)
    return {
        "MLFLOW_TRACKING_URI": uri,
        "FLEETUI_RUNNER": "command",
        "FLEETUI_RUNNER_COMMAND": (
            f"{sys.executable} {script} {{repo}} {{attempt}} {{prompt_revision}} {{prompt_file}} {log}"
        ),
        "FLEETUI_RUNNER_TIMEOUT": "60",
    }


def settled(batch_id: int) -> bool:
    unsettled = (RerunOutcome.PENDING, RerunOutcome.WAITING)
    return not RerunItem.objects.filter(batch_id=batch_id, outcome__in=unsettled).exists()


@pytest.mark.parametrize("prompt, expands", [(PROMPT + "\nUse jakarta.annotation.", True), (PROMPT + "\n", False)])
def test_a_canary_on_a_real_worker_expands_when_it_fixes_enough_and_pauses_when_not(
    broker, tmp_path, settings, prompt, expands
):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    cluster = clustered_fleet(uri)
    settings.MLFLOW_TRACKING_URI = uri
    settings.FLEETUI_RUNNER = "command"
    log = tmp_path / "dispatches.log"
    log.touch()
    owner = make_user(role=MIGRATION_OWNER)
    with worker_process(broker=broker, concurrency=2, env=agent_env(tmp_path, uri, log)):
        batch = rerun_batch_create(
            migration=cluster.migration,
            user=owner,
            cluster_id=cluster.pk,
            prompt=prompt,
            canary=CanarySpec(size=2, fraction=None, min_fixed=0.5, max_new_cluster_share=0.3),
        )
        canary = set(batch.items.filter(canary=True).values_list("repository__full_name", flat=True))

        def verdict_given() -> bool:
            return RerunBatch.objects.get(pk=batch.pk).phase != RerunPhase.CANARY

        assert wait_for(verdict_given, timeout=120, interval=0.5), "the canary's verdict never came"
        if expands:
            assert wait_for(lambda: settled(batch.pk) and RerunBatch.objects.get(pk=batch.pk).done, timeout=150)
    batch.refresh_from_db()
    dispatched = log.read_text().split()
    outcomes = dict(batch.items.values_list("repository__full_name", "outcome"))
    # The canary went first; nothing else was dispatched before its verdict.
    assert set(dispatched[:2]) == canary and len(canary) == 2
    if expands:
        assert batch.phase == RerunPhase.EXPANDED, batch.paused_reason
        assert sorted(dispatched) == sorted(NAMES)
        assert set(outcomes.values()) == {RerunOutcome.FIXED}, outcomes
        event = AuditEvent.objects.get(verb="rerun.canary_expanded", target_id=str(batch.pk))
        assert event.data["automatic"] is True and event.data["released"] == 4
    else:
        assert batch.phase == RerunPhase.PAUSED
        assert batch.paused_reason == "0 of 2 fixed, below 50%"
        assert sorted(dispatched) == sorted(canary)
        assert batch.items.filter(state=RerunState.HELD).count() == 4
        assert AuditEvent.objects.filter(verb="rerun.canary_paused", target_id=str(batch.pk)).count() == 1
