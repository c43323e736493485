"""Starts real Celery worker processes against the test database and broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from fleetui.common.broker import transport_options as broker_transport_options
from fleetui.common.db import database_url

ROOT = Path(__file__).resolve().parents[1]


def broker_url(tmp_path: Path) -> str:
    """Redis when the environment provides it, else an embedded SQLite broker file."""
    return settings.REDIS_URL or f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"


@contextmanager
def worker_process(
    *, broker: str, concurrency: int = 1, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    """A `celery worker` subprocess sharing this test's database; stopped on exit."""
    child_env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker,
        "FLEETUI_TESTING": "1",
        "DJANGO_SETTINGS_MODULE": "fleetui.settings",
        **(env or {}),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "fleetui",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=child_env,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@contextmanager
def beat_process(*, broker: str, schedule_file: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """A `celery beat` subprocess sending the beat schedule to `broker`; stopped on exit."""
    child_env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker,
        "FLEETUI_TESTING": "1",
        "DJANGO_SETTINGS_MODULE": "fleetui.settings",
        **(env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "fleetui", "beat", "-s", str(schedule_file), "--loglevel", "WARNING"],
        cwd=ROOT,
        env=child_env,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


@contextmanager
def broker_in_use(url: str, *, transport_options: dict | None = None) -> Iterator[str]:
    """Send this block's tasks to `url`, then put the app's broker back.

    The app pools its broker connections and producers: without dropping them a send after the swap still goes to
    the broker an earlier test used, where no worker of this test listens.
    """
    from fleetui.celery import app

    def reset_pool() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    old = (app.conf.broker_url, app.conf.broker_transport_options)
    if transport_options is None:
        transport_options = broker_transport_options(url, visibility_timeout=settings.CELERY_TASK_TIME_LIMIT * 2)
    app.conf.broker_url, app.conf.broker_transport_options = url, transport_options
    reset_pool()
    try:
        yield url
    finally:
        app.conf.broker_url, app.conf.broker_transport_options = old
        reset_pool()
