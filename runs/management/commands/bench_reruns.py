"""`manage.py bench_reruns`: creating and enqueueing a large rerun batch, and dispatch throughput.

Uses a throw-away test database on the configured server. Throughput is measured with the
`command` runner running `true` on worker processes started here, against Redis when
REDIS_URL is set (a database of its own) or else an embedded SQLite broker. The batch is created in a
process started as a web server starts (`server_heap_freeze`: views and the broker's transport loaded).

`--kill-worker` measures recovery instead: a worker running two long reruns is killed with
SIGKILL, a replacement worker and `celery beat` carry on, and the time from the kill until
the items are taken back and the batch finishes is printed (median of `--rounds`), beside the
time the items waited before heartbeats (the task time limit and a margin).
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from fleetui.common.broker import transport_options
from fleetui.common.startup import server_heap_freeze

ROOT = Path(__file__).resolve().parents[3]


class Command(BaseCommand):
    help = "Benchmark rerun batch creation and dispatch throughput on real worker processes."

    def add_arguments(self, parser):
        parser.add_argument("--repos", type=int, default=1000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--kill-worker", action="store_true", help="Measure recovery after a worker is killed.")
        parser.add_argument("--rounds", type=int, default=3, help="Kills to take the median of (--kill-worker).")
        parser.add_argument(
            "--heartbeat-timeout", type=float, default=None, help="FLEETUI_HEARTBEAT_TIMEOUT for the workers."
        )

    def handle(self, *args, **options):
        if options["kill_worker"]:
            return self._kill_worker(
                rounds=options["rounds"], timeout=options["heartbeat_timeout"] or settings.FLEETUI_HEARTBEAT_TIMEOUT
            )
        from fleetui.common.db import database_url

        count, workers = options["repos"], options["workers"]
        original = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            with tempfile.TemporaryDirectory(prefix="fleetui-bench-reruns-") as tmp:
                broker = _broker(Path(tmp))
                # Measured as a web server process answers the request: started, its views and the broker's
                # transport loaded (fleetui.common.startup), not the first import of either.
                server_heap_freeze()
                migration, names = _fleet(count)
                procs = [_worker(broker, database_url(), index) for index in range(workers)]
                try:
                    time.sleep(6)  # let the workers connect before the clock starts
                    enqueued_at = timezone.now()
                    create_s, batch = _create(migration, names, broker)
                    dispatch = _wait(batch, started=enqueued_at, timeout=max(120, count / 5))
                finally:
                    for proc in procs:
                        _stop(proc)
        finally:
            connection.creation.destroy_test_db(original, verbosity=0)
        kind = broker.split("://")[0]
        goal = 100 if kind.startswith("redis") else 20
        rate = dispatch.succeeded / dispatch.seconds if dispatch.seconds else 0.0
        lines = [
            f"create and enqueue a {count}-repository batch: {create_s:.2f} s (goal at most 1 s)",
            f"dispatch throughput, command runner `true`, {workers} worker processes: {rate:.1f} repositories/s "
            f"({dispatch.succeeded} of {count} dispatched and succeeded in {dispatch.seconds:.1f} s from the enqueue, "
            f"queue wait included; goal at least {goal}/s on {kind})",
        ]
        if dispatch.failed:
            lines.append(f"  {dispatch.failed} items failed and are not counted")
        if dispatch.timed_out:
            lines.append(f"  TIMED OUT: {dispatch.unfinished} items were still unfinished when the benchmark gave up")
        lines.append(f"broker: {kind}, database: {connection.vendor}")
        self.stdout.write("\n".join(lines))

    def _kill_worker(self, *, rounds: int, timeout: float) -> None:
        from statistics import median

        from fleetui.common.db import database_url

        original = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        recovered: list[float] = []
        finished: list[float] = []
        try:
            with tempfile.TemporaryDirectory(prefix="fleetui-bench-kill-") as tmp:
                broker = _kill_broker(Path(tmp))
                migration, names = _fleet(rounds)
                env = {
                    "FLEETUI_HEARTBEAT_TIMEOUT": str(timeout),
                    "FLEETUI_RUNNER_COMMAND": "sleep 900",
                    "FLEETUI_RUNNER_TIMEOUT": "1200",
                    "CELERY_TASK_TIME_LIMIT": str(settings.CELERY_TASK_TIME_LIMIT),
                }
                # Two workers and one beat, as in production; each round kills the worker running the rerun and
                # starts its replacement afterwards, the way a supervisor would.
                procs = [_beat(broker, database_url(), Path(tmp), env)]
                workers = [_worker(broker, database_url(), n, concurrency=2, env=env) for n in range(2)]
                try:
                    time.sleep(10)  # let the workers connect before the first round
                    for index in range(rounds):
                        taken, ended, victim = _kill_round(migration, names[index], workers)
                        recovered.append(taken)
                        finished.append(ended)
                        workers.remove(victim)
                        workers.append(_worker(broker, database_url(), 10 + index, concurrency=2, env=env))
                        self.stdout.write(
                            f"round {index + 1}: taken back {taken:.1f} s after the kill, batch finished {ended:.1f} s"
                        )
                        time.sleep(10)  # the replacement connects
                finally:
                    for proc in procs + workers:
                        _stop(proc)
        finally:
            connection.creation.destroy_test_db(original, verbosity=0)
        before = settings.CELERY_TASK_TIME_LIMIT + 5
        self.stdout.write(
            "\n".join(
                [
                    f"recovery after SIGKILL of a worker mid-rerun (FLEETUI_HEARTBEAT_TIMEOUT={timeout:g} s): "
                    f"item taken back after a median {median(recovered):.1f} s (max {max(recovered):.1f} s), "
                    f"batch finished after a median {median(finished):.1f} s, over {rounds} kills",
                    f"before heartbeats: items waited CELERY_TASK_TIME_LIMIT + 5 = {before} s before anything "
                    "looked at them (goal: within 60 s)",
                    f"broker: {broker.split('://')[0]}, database: {connection.vendor}",
                ]
            )
        )


def _kill_broker(tmp: Path) -> str:
    """REDIS_URL as given (its own database number), else an embedded SQLite broker."""
    if settings.REDIS_URL:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).flushdb()
        url = settings.REDIS_URL
    else:
        url = f"sqla+sqlite:///{tmp / 'broker.sqlite3'}"
    return _use_broker(url)


def _beat(broker: str, database_url: str, tmp: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "fleetui", "beat", "-s", str(tmp / "beat-schedule")]
        + ["--loglevel", "WARNING"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "CELERY_BROKER_URL": broker, "FLEETUI_TESTING": "1", **env},
        start_new_session=True,
    )


def _kill_round(migration, name: str, workers: list[subprocess.Popen]) -> tuple[float, float, subprocess.Popen]:
    """Kill the worker running `name`'s rerun; seconds from the kill until it is taken back, and the batch ends."""
    from runs.reruns.models import RerunBatch, RerunItem, RerunState
    from runs.reruns.services import rerun_batch_create

    with transaction.atomic():
        batch = rerun_batch_create(migration=migration, user=None, repos=[name], runner="command")
    item = RerunItem.objects.filter(batch=batch)
    _until(lambda: item.filter(state=RerunState.RUNNING, started=True).exists(), 300)
    agent = int(item.values_list("runner_ref", flat=True).get().removeprefix("pid:"))
    # The agent's parent is a pool process, whose parent is the worker.
    victim = next(w for w in workers if w.pid == _parent(_parent(agent)))
    try:
        os.killpg(victim.pid, signal.SIGKILL)
        killed = time.monotonic()
        victim.wait(timeout=10)
        _until(
            lambda: not item.filter(state__in=(RerunState.DISPATCHED, RerunState.RUNNING)).exists(), 900, interval=0.1
        )
        taken = time.monotonic() - killed
        _until(lambda: RerunBatch.objects.filter(pk=batch.pk, finished_at__isnull=False).exists(), 300, interval=0.1)
        ended = time.monotonic() - killed
    finally:
        try:
            os.killpg(agent, signal.SIGKILL)  # the agent runs on in its own session
        except ProcessLookupError:
            pass
    return taken, ended, victim


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[1])


def _until(predicate, timeout: float, *, interval: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up after {timeout:g} s")
        time.sleep(interval)


def _use_broker(url: str) -> str:
    """Send this process's tasks to `url`, with its transport options and no pooled connection to another."""
    from fleetui.celery import app

    app.conf.broker_url = url
    app.conf.broker_transport_options = transport_options(url, visibility_timeout=settings.CELERY_TASK_TIME_LIMIT * 2)
    app._pool = None
    app.amqp._producer_pool = None
    return url


def _broker(tmp: Path) -> str:
    if settings.REDIS_URL:
        import redis

        url = settings.REDIS_URL.rsplit("/", 1)[0] + "/12"
        redis.Redis.from_url(url).flushdb()
    else:
        url = f"sqla+sqlite:///{tmp / 'broker.sqlite3'}"
    return _use_broker(url)


def _fleet(count: int):
    from runs.fleet.models import Attempt, Migration, Outcome, Repository, Target

    migration = Migration.objects.create(slug="bench-reruns", title="Bench reruns")
    repos = Repository.objects.bulk_create(Repository(full_name=f"bench/repo-{i:05d}") for i in range(count))
    attempts = Attempt.objects.bulk_create(
        Attempt(trace_id=f"bench-{r.pk}", migration=migration, repository=r, outcome=Outcome.VERIFY_FAILED)
        for r in repos
    )
    Target.objects.bulk_create(
        Target(migration=migration, repository=a.repository, state="verify_failed", latest_attempt=a, attempts_count=1)
        for a in attempts
    )
    return migration, [r.full_name for r in repos]


def _worker(
    broker: str, database_url: str, index: int, *, concurrency: int = 1, env: dict | None = None
) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "FLEETUI_TESTING": "1",
        "FLEETUI_RUNNER": "command",
        "FLEETUI_RUNNER_COMMAND": "true",
        "FLEETUI_RERUN_CONCURRENCY": "64",
        **(env or {}),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "fleetui", "worker", "--pool", "prefork"]
        + ["--concurrency", str(concurrency)]
        + ["--loglevel", "WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle"]
        + ["-n", f"bench{index}@%h"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )


def _create(migration, names, broker):
    from runs.reruns.services import rerun_batch_create

    started = time.perf_counter()
    with transaction.atomic():
        batch = rerun_batch_create(migration=migration, user=None, repos=names, runner="command")
    return time.perf_counter() - started, batch


@dataclass(frozen=True)
class Dispatched:
    succeeded: int
    failed: int
    unfinished: int
    seconds: float
    timed_out: bool


def _wait(batch, *, started, timeout: float) -> Dispatched:
    """Wait for the batch; only items that succeeded count, timed from `started` (the enqueue) to the last one."""
    from django.db.models import Max

    from runs.reruns.models import RerunItem

    deadline = time.monotonic() + timeout
    active = ("queued", "dispatched", "running")
    items = RerunItem.objects.filter(batch=batch)
    while time.monotonic() < deadline and items.filter(state__in=active).exists():
        time.sleep(0.25)
    last = items.filter(state="succeeded").aggregate(last=Max("finished_at"))["last"]
    unfinished = items.filter(state__in=active).count()
    return Dispatched(
        succeeded=items.filter(state="succeeded").count(),
        failed=items.filter(state="failed").count(),
        unfinished=unfinished,
        seconds=(last - started).total_seconds() if last else 0.0,
        timed_out=unfinished > 0,
    )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
