"""Rerun items carry a heartbeat: a killed worker's items are taken back once, a live worker's never."""

import os
import signal
import sys
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from fleetui.common.broker import transport_options as broker_transport_options
from runs.fleet.models import Outcome
from runs.reruns.dispatch import rerun_item_execute
from runs.reruns.models import RerunItem, RerunState
from runs.reruns.recovery import rerun_items_recover, rerun_items_take_back
from runs.reruns.runners.base import Runner, RunResult
from runs.reruns.services import rerun_batch_create
from tests.celery_support import beat_process, broker_in_use, wait_for, worker_process
from tests.conftest import need_service
from tests.factories import make_attempt, make_migration, make_repo, make_user

# The task time limit stays long: only the heartbeat can make these items come back in time.
TIME_LIMIT = 600
HEARTBEAT_TIMEOUT = 3
AGENT = """
import sys, time
repo, log = sys.argv[1], sys.argv[2]
with open(log, "a") as handle:
    handle.write(repo + "\\n")
time.sleep(float(sys.argv[3]) if repo.startswith("slow/") else 0.3)
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


@pytest.fixture
def liveness(settings):
    settings.CELERY_TASK_TIME_LIMIT = TIME_LIMIT
    settings.CELERY_TASK_SOFT_TIME_LIMIT = TIME_LIMIT - 10
    settings.FLEETUI_HEARTBEAT_TIMEOUT = HEARTBEAT_TIMEOUT
    settings.FLEETUI_RUNNER = "command"
    return settings


@pytest.fixture(params=["embedded", "redis"])
def broker(request, tmp_path, liveness):
    if request.param == "redis":
        need_service("Redis (REDIS_URL)", redis_available())
        import redis

        url = django_settings.REDIS_URL
        redis.Redis.from_url(url).flushdb()
    else:
        url = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    liveness.CELERY_BROKER_URL = url
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


def worker_env(script, log, *, slow_seconds: float) -> dict[str, str]:
    return {
        "CELERY_TASK_TIME_LIMIT": str(TIME_LIMIT),
        "CELERY_TASK_SOFT_TIME_LIMIT": str(TIME_LIMIT - 10),
        "FLEETUI_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
        "FLEETUI_RUNNER": "command",
        "FLEETUI_RUNNER_COMMAND": f"{sys.executable} {script} {{repo}} {log} {slow_seconds}",
        "FLEETUI_RUNNER_TIMEOUT": "120",
    }


def fleet(names: list[str]):
    migration = make_migration("liveness")
    for name in names:
        make_attempt(migration, make_repo(name), outcome=Outcome.VERIFY_FAILED)
    return migration


def kill_orphans(batch) -> None:
    """The agents a killed worker started run on in their own sessions: stop them."""
    for ref in RerunItem.objects.filter(batch=batch).values_list("runner_ref", flat=True):
        if ref.startswith("pid:"):
            try:
                os.killpg(int(ref[4:]), signal.SIGKILL)
            except (ProcessLookupError, PermissionError, ValueError):
                pass


def in_flight(batch, names) -> int:
    return RerunItem.objects.filter(
        batch=batch, repository__full_name__in=names, state=RerunState.RUNNING, started=True
    ).count()


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("chunked", [False, True], ids=["one-task-per-item", "chunks"])
def test_a_killed_workers_rerun_items_are_taken_back_and_the_batch_finishes(
    broker, agent, tmp_path, monkeypatch, chunked
):
    if chunked:
        # Chunks of three: both slow runs and a quick one share the chunk the worker dies in.
        monkeypatch.setattr("runs.reruns.chunks.DISPATCH_CHUNK", 3)
        monkeypatch.setattr("runs.reruns.chunks.DISPATCH_SPREAD", 2)
    script, log = agent
    slow, quick = ["slow/one", "slow/two"], [f"acme/quick-{i}" for i in range(4)]
    migration = fleet(slow + quick)
    env = worker_env(script, log, slow_seconds=60)
    batch = None
    with beat_process(broker=broker, schedule_file=tmp_path / "beat-schedule", env=env):
        with worker_process(broker=broker, concurrency=2, env=env) as first:
            batch = rerun_batch_create(migration=migration, user=make_user(), repos=slow + quick)
            try:
                assert wait_for(lambda: in_flight(batch, slow) == 2, timeout=60), "the slow runs never started"
                if chunked:
                    # The quick run beside them in their chunk has ended and its outcome is written: it is kept.
                    # The other chunk (quick runs only) runs beside on the second process; it ends before the kill,
                    # so that only the chunk with the slow runs dies mid-way, however loaded the machine is.
                    ended = batch.items.filter(repository__full_name__in=quick, state=RerunState.SUCCEEDED)
                    assert wait_for(lambda: ended.count() == len(quick), timeout=60), "the quick runs never ended"
                os.killpg(first.pid, signal.SIGKILL)
                first.wait(timeout=10)
                with worker_process(broker=broker, concurrency=2, env=env):
                    # Far below the task time limit (600 s): only a missing heartbeat brings them back this soon.
                    finished = wait_for(lambda: batch_finished(batch), timeout=45)
            finally:
                kill_orphans(batch)
    items = {i.repository.full_name: i for i in RerunItem.objects.filter(batch=batch).select_related("repository")}
    assert finished, f"unfinished: {[(n, i.state) for n, i in items.items()]}"
    for name in slow:
        # The command had started: it is not started twice, and says why it needs a person.
        assert items[name].state == RerunState.FAILED and "worker stopped" in items[name].error
        assert items[name].recoveries == 1
    assert all(items[name].state == RerunState.SUCCEEDED for name in quick), [(n, items[n].state) for n in quick]
    dispatched = Counter(log.read_text().split())
    assert set(dispatched) == set(slow + quick)
    assert max(dispatched.values()) == 1, f"dispatched twice: {[n for n, c in dispatched.items() if c > 1]}"


def batch_finished(batch) -> bool:
    batch.refresh_from_db()
    return batch.finished_at is not None


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_live_workers_item_is_never_taken_back_however_long_it_runs(broker, agent):
    script, log = agent
    migration = fleet(["slow/alive"])
    env = worker_env(script, log, slow_seconds=4 * HEARTBEAT_TIMEOUT)
    with worker_process(broker=broker, concurrency=1, env=env):
        batch = rerun_batch_create(migration=migration, user=make_user(), repos=["slow/alive"])
        item = batch.items.get()
        assert wait_for(lambda: in_flight(batch, ["slow/alive"]) == 1, timeout=60), "the run never started"
        looked = 0

        def watchdog_finds_it_done() -> bool:
            nonlocal looked
            rerun_items_recover(stall_after=1)
            looked += 1
            item.refresh_from_db()
            return item.state not in (RerunState.DISPATCHED, RerunState.RUNNING)

        # The watchdog looks again and again while the run lasts four heartbeat timeouts.
        ended = wait_for(watchdog_finds_it_done, timeout=60, interval=0.5)
    assert ended and looked > 4 * HEARTBEAT_TIMEOUT
    assert (item.state, item.recoveries, item.error) == (RerunState.SUCCEEDED, 0, "")
    assert log.read_text().split() == ["slow/alive"]


def stale_item(*, started: bool = True, runner: str = "command", recoveries: int = 0, **fields) -> RerunItem:
    """An item in flight whose worker last beat an hour ago (the default timeout is a minute)."""
    batch = rerun_batch_create(migration=fleet(["acme/stale"]), user=make_user(), repos=["acme/stale"], runner=runner)
    item = batch.items.get()
    long_ago = timezone.now() - timedelta(hours=1)
    RerunItem.objects.filter(pk=item.pk).update(
        state=RerunState.RUNNING,
        started=started,
        tries=1,
        dispatch_token=f"{batch.pk}:{item.repository_id}:1",
        **{"claim_token": "gone-worker", "heartbeat_at": long_ago, "recoveries": recoveries, **fields},
    )
    item.refresh_from_db()
    return item


@pytest.fixture
def sent(monkeypatch, settings):
    """The tasks the watchdog sends again; the default timeout (a minute), so no heartbeat thread beats mid-test."""
    settings.FLEETUI_RUNNER = "command"
    calls = []
    monkeypatch.setattr("runs.reruns.recovery.rerun_items_enqueue", lambda *, items: calls.extend(items))
    monkeypatch.setattr("runs.reruns.services.rerun_items_enqueue", lambda *, items: None)
    monkeypatch.setattr("runs.reruns.services._watchdog_on_commit", lambda: None)
    return calls


@pytest.mark.django_db(transaction=True)
def test_two_watchdogs_at_once_take_a_stale_item_back_once(sent):
    item = stale_item(started=False)
    gate = threading.Barrier(4)
    taken = []

    def watchdog() -> None:
        try:
            gate.wait()
            taken.extend(rerun_items_take_back(items=RerunItem.objects.all()).retried)
        finally:
            connection.close()

    threads = [threading.Thread(target=watchdog) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    again = rerun_items_recover(stall_after=3600)
    item.refresh_from_db()
    assert taken == [item.pk]
    assert (item.state, item.recoveries, item.claim_token) == (RerunState.QUEUED, 1, "")
    assert again == 0 and sent == []


@pytest.mark.django_db
def test_the_watchdog_sends_a_taken_back_item_again_once(sent):
    item = stale_item(started=False)

    first, second = rerun_items_recover(stall_after=3600), rerun_items_recover(stall_after=3600)

    item.refresh_from_db()
    assert (first, second) == (1, 0)
    assert sent == [(item.pk, 1)] and item.state == RerunState.QUEUED


@pytest.mark.django_db
def test_a_fresh_heartbeat_keeps_an_item_from_the_watchdog(sent):
    item = stale_item(started=False, heartbeat_at=timezone.now())

    assert rerun_items_recover(stall_after=0) == 0

    item.refresh_from_db()
    assert (item.state, item.recoveries) == (RerunState.RUNNING, 0)


@pytest.mark.django_db
def test_an_item_taken_back_for_the_third_time_needs_a_person(sent):
    item = stale_item(started=False, recoveries=2)

    rerun_items_recover(stall_after=3600)

    item.refresh_from_db()
    assert item.state == RerunState.FAILED and "needs a person" in item.error and item.recoveries == 3
    assert sent == [] and batch_finished(item.batch)


@pytest.mark.django_db
def test_an_idempotent_runners_item_is_sent_again_under_the_same_key(sent):
    item = stale_item(started=True, runner="kubernetes")
    key = item.dispatch_token

    rerun_items_recover(stall_after=3600)

    item.refresh_from_db()
    assert item.state == RerunState.QUEUED and item.tries == 0 and sent == [(item.pk, 0)]

    class Following(Runner):
        name = "kubernetes"
        keys: list[str] = []

        def dispatch(self, job, *, on_started=None):
            Following.keys.append(job.idempotency_key)
            return RunResult(state="succeeded", runner_ref="job")

    rerun_item_execute(item_id=item.pk, runner=Following())
    item.refresh_from_db()
    assert Following.keys == [key] and item.state == RerunState.SUCCEEDED


@pytest.mark.django_db
def test_an_item_handed_to_the_runners_callback_is_left_alone(sent):
    item = stale_item(started=True, runner="http", heartbeat_at=None)

    assert rerun_items_recover(stall_after=3600) == 0

    item.refresh_from_db()
    assert item.state == RerunState.RUNNING and item.recoveries == 0


@pytest.mark.django_db
def test_a_late_original_does_not_overwrite_its_retrys_result(sent):
    item = stale_item(started=False)
    RerunItem.objects.filter(pk=item.pk).update(state=RerunState.QUEUED, tries=0, claim_token="", heartbeat_at=None)

    class Stalled(Runner):
        """The first dispatch stalls past the timeout; meanwhile the item is taken back and run again."""

        name = "command"
        calls = 0

        def dispatch(self, job, *, on_started=None):
            Stalled.calls += 1
            if Stalled.calls == 1:
                long_ago = timezone.now() - timedelta(hours=1)
                RerunItem.objects.filter(pk=job.item_id).update(heartbeat_at=long_ago)
                retry = rerun_item_execute(item_id=job.item_id, runner=self)
                assert retry.action == "done"
                return RunResult(state="failed", exit_code=9, output_tail="the original, late", error="late")
            return RunResult(state="succeeded", exit_code=0, output_tail="the retry")

    outcome = rerun_item_execute(item_id=item.pk, runner=Stalled())

    item.refresh_from_db()
    assert outcome.action == "skip"
    assert (item.state, item.output_tail, item.exit_code, item.tries) == (RerunState.SUCCEEDED, "the retry", 0, 2)
