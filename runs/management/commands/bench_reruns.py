"""`manage.py bench_reruns`: creating and enqueueing a large rerun batch, and dispatch throughput.

Uses a throw-away test database on the configured server. Throughput is measured with the
`command` runner running `true` on worker processes started here, against Redis when
REDIS_URL is set (a database of its own) or else an embedded SQLite broker.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction

ROOT = Path(__file__).resolve().parents[3]


class Command(BaseCommand):
    help = "Benchmark rerun batch creation and dispatch throughput on real worker processes."

    def add_arguments(self, parser):
        parser.add_argument("--repos", type=int, default=1000)
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args, **options):
        from fleetui.common.db import database_url

        count, workers = options["repos"], options["workers"]
        original = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            with tempfile.TemporaryDirectory(prefix="fleetui-bench-reruns-") as tmp:
                broker = _broker(Path(tmp))
                migration, names = _fleet(count)
                procs = [_worker(broker, database_url(), index) for index in range(workers)]
                try:
                    time.sleep(6)  # let the workers connect before the clock starts
                    create_s, batch = _create(migration, names, broker)
                    dispatch = _wait(batch, timeout=max(120, count / 5))
                finally:
                    for proc in procs:
                        _stop(proc)
        finally:
            connection.creation.destroy_test_db(original, verbosity=0)
        done, span = dispatch
        rate = done / span if span else 0.0
        self.stdout.write(
            "\n".join(
                [
                    f"create and enqueue a {count}-repository batch: {create_s:.2f} s (goal at most 2 s)",
                    f"dispatch throughput, command runner `true`, {workers} worker processes: "
                    f"{rate:.1f} repositories/s ({done} finished in {span:.1f} s; goal at least 50/s)",
                    f"broker: {broker.split('://')[0]}, database: {connection.vendor}",
                ]
            )
        )


def _broker(tmp: Path) -> str:
    if settings.REDIS_URL:
        import redis

        url = settings.REDIS_URL.rsplit("/", 1)[0] + "/12"
        redis.Redis.from_url(url).flushdb()
    else:
        url = f"sqla+sqlite:///{tmp / 'broker.sqlite3'}"
    from fleetui.celery import app

    app.conf.broker_url = url
    app.conf.broker_transport_options = {} if not url.startswith("redis") else app.conf.broker_transport_options
    app._pool = None
    app.amqp._producer_pool = None
    return url


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


def _worker(broker: str, database_url: str, index: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "FLEETUI_TESTING": "1",
        "FLEETUI_RUNNER": "command",
        "FLEETUI_RUNNER_COMMAND": "true",
        "FLEETUI_RERUN_CONCURRENCY": "64",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "fleetui", "worker", "--pool", "prefork", "--concurrency", "1"]
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


def _wait(batch, *, timeout: float):
    from django.db.models import Max, Min

    from runs.reruns.models import RerunItem

    deadline = time.monotonic() + timeout
    active = ("queued", "dispatched", "running")
    while time.monotonic() < deadline and RerunItem.objects.filter(batch=batch, state__in=active).exists():
        time.sleep(0.5)
    finished = RerunItem.objects.filter(batch=batch, state__in=("succeeded", "failed"))
    span = finished.aggregate(a=Min("dispatched_at"), b=Max("finished_at"))
    seconds = (span["b"] - span["a"]).total_seconds() if span["a"] and span["b"] else 0.0
    return finished.count(), seconds


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
