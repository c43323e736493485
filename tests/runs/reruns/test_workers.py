"""Reruns on real Celery worker processes: exactly one dispatch per repository through a worker kill."""

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from fleetui.common.broker import transport_options as broker_transport_options
from fleetui.common.db import database_url
from runs.fleet.models import Outcome
from runs.reruns.models import RerunItem, RerunState
from runs.reruns.services import rerun_batch_cancel, rerun_batch_create
from tests.celery_support import ROOT, broker_in_use, wait_for
from tests.conftest import need_service
from tests.factories import make_attempt, make_migration, make_repo, make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.services]

TIME_LIMIT = 6
AGENT = """
import sys, time
repo, log = sys.argv[1], sys.argv[2]
with open(log, "a") as handle:
    handle.write(repo + "\\n")
if repo.startswith("bad/"):
    print("BUILD FAILURE for " + repo)
    sys.exit(3)
time.sleep(30 if repo.startswith("slow/") else 0.5)
"""


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

        # A database of its own, so workers of other test runs on the same server never take these tasks.
        url = django_settings.REDIS_URL.rsplit("/", 1)[0] + "/11"
        redis.Redis.from_url(url).flushdb()
    else:
        url = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    settings.CELERY_BROKER_URL = url
    settings.CELERY_TASK_TIME_LIMIT = TIME_LIMIT
    settings.CELERY_TASK_SOFT_TIME_LIMIT = TIME_LIMIT - 1
    options = broker_transport_options(url, visibility_timeout=TIME_LIMIT * 2)
    with broker_in_use(url, transport_options=options):
        yield url


@pytest.fixture
def agent(tmp_path):
    script = tmp_path / "agent.py"
    script.write_text(AGENT)
    log = tmp_path / "dispatches.log"
    log.touch()
    return script, log


def start_worker(broker: str, script: Path, log: Path, *, runner_timeout: int = 20, concurrency: int = 2):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "FLEETUI_TESTING": "1",
        "CELERY_BROKER_URL": broker,
        "DJANGO_SETTINGS_MODULE": "fleetui.settings",
        "CELERY_TASK_TIME_LIMIT": str(TIME_LIMIT),
        "CELERY_TASK_SOFT_TIME_LIMIT": str(TIME_LIMIT - 1),
        "FLEETUI_RUNNER": "command",
        "FLEETUI_RUNNER_COMMAND": f"{sys.executable} {script} {{repo}} {log}",
        "FLEETUI_RUNNER_TIMEOUT": str(runner_timeout),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "fleetui", "worker", "--pool", "prefork"]
        + ["--concurrency", str(concurrency), "--loglevel", "WARNING"]
        + ["--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def fleet(names: list[str]):
    migration = make_migration("worker-rerun")
    for name in names:
        make_attempt(migration, make_repo(name), outcome=Outcome.VERIFY_FAILED)
    return migration


def batch_done(batch) -> bool:
    return not RerunItem.objects.filter(batch=batch, state__in=("queued", "dispatched", "running")).exists()


def test_every_repository_is_dispatched_exactly_once_when_a_worker_is_killed_mid_batch(broker, agent):
    script, log = agent
    names = [f"acme/kill-{i:02d}" for i in range(14)]
    migration = fleet(names)
    first = start_worker(broker, script, log)
    second = None
    try:
        batch = rerun_batch_create(migration=migration, user=make_user(), repos=names)
        assert wait_for(lambda: len(log.read_text().split()) >= 4, timeout=40), "the first worker dispatched nothing"
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = len(log.read_text().split())
        second = start_worker(broker, script, log)
        finished = wait_for(lambda: batch_done(batch), timeout=55, interval=0.5)
    finally:
        stop(first)
        if second is not None:
            stop(second)
    dispatched = Counter(log.read_text().split())
    states = dict(RerunItem.objects.filter(batch=batch).values_list("repository__full_name", "state"))
    assert finished, f"items still in flight: {states}"
    assert killed_at < len(names), "the kill came after the batch had finished"
    assert set(dispatched) == set(names), f"never dispatched: {set(names) - set(dispatched)}"
    assert max(dispatched.values()) == 1, f"dispatched twice: {[n for n, c in dispatched.items() if c > 1]}"
    for item in RerunItem.objects.filter(batch=batch, state=RerunState.FAILED):
        assert "worker stopped" in item.error
    assert RerunItem.objects.filter(batch=batch, state=RerunState.SUCCEEDED).count() >= len(names) - 2


def test_failures_timeouts_cancel_and_hostile_names_on_a_real_worker(broker, agent, tmp_path):
    script, log = agent
    hostile = ["x; touch pwned", "$(id)"]
    names = ["bad/build", "slow/hang", *hostile]
    later = [f"acme/later-{i}" for i in range(8)]
    migration = fleet(names + later)
    worker = start_worker(broker, script, log, runner_timeout=2, concurrency=1)
    try:
        owner = make_user()
        batch = rerun_batch_create(migration=migration, user=owner, repos=names)
        assert wait_for(lambda: batch_done(batch), timeout=40, interval=0.5)
        queue = rerun_batch_create(migration=migration, user=owner, repos=later)
        assert wait_for(lambda: "acme/later-0" in log.read_text(), timeout=20)
        rerun_batch_cancel(batch=queue, user=owner)
        assert wait_for(lambda: batch_done(queue), timeout=20, interval=0.5)
    finally:
        stop(worker)
    items = {i.repository.full_name: i for i in RerunItem.objects.filter(batch=batch).select_related("repository")}
    assert items["bad/build"].state == RerunState.FAILED and items["bad/build"].exit_code == 3
    assert "BUILD FAILURE for bad/build" in items["bad/build"].output_tail
    assert items["slow/hang"].state == RerunState.FAILED and "timed out" in items["slow/hang"].error
    for name in hostile:
        assert items[name].state == RerunState.SUCCEEDED
    dispatched = log.read_text().splitlines()
    assert all(name in dispatched for name in hostile)
    assert not (ROOT / "pwned").exists() and not (tmp_path / "pwned").exists()
    cancelled = set(
        RerunItem.objects.filter(batch=queue, state=RerunState.CANCELLED).values_list(
            "repository__full_name", flat=True
        )
    )
    assert cancelled, "the cancel came too late to stop anything"
    assert not cancelled & set(dispatched)
