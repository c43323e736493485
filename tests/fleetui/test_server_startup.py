"""A web server process loads every view and freezes its heap before the first request."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, sys
import fleetui.{entry}
print(gc.get_freeze_count(), "runs.reviews.views" in sys.modules, "triage.clusters.views" in sys.modules)
"""


def started(entry: str, tmp_path) -> list[str]:
    env = {**os.environ, "FLEETUI_DATA_DIR": str(tmp_path), "DEBUG": "1"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(entry=entry)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout.split()[-3:]


def test_the_wsgi_entry_point_imports_every_view_and_freezes_the_loaded_heap(tmp_path):
    frozen, reviews, clusters = started("wsgi", tmp_path)

    assert reviews == clusters == "True", "the URLconf's views are loaded before the first request"
    assert int(frozen) > 10_000, "the startup heap is left out of later garbage collections"


def test_the_asgi_entry_point_does_the_same(tmp_path):
    frozen, reviews, _ = started("asgi", tmp_path)

    assert reviews == "True" and int(frozen) > 10_000


@pytest.fixture
def broker_url():
    from fleetui.celery import app

    before = app.conf.broker_url

    def use(url: str) -> None:
        app.conf.broker_url = url

    yield use
    app.conf.broker_url = before


def test_the_broker_transport_is_loaded_before_the_first_request_without_connecting(broker_url, tmp_path):
    from fleetui.common.startup import broker_transport_load

    broker_url("redis://127.0.0.1:1/0")  # nothing listens there: connecting would fail
    assert broker_transport_load() == "kombu.transport.redis.Transport"

    broker = tmp_path / "broker.sqlite3"
    broker_url(f"sqla+sqlite:///{broker}")
    assert broker_transport_load() == "fleetui.common.broker.SQLiteTransport"
    assert "kombu.transport.sqlalchemy" in sys.modules
    assert not broker.exists(), "loading the transport opens no connection to the broker"


def test_a_broker_transport_that_cannot_load_leaves_startup_to_the_first_task(broker_url):
    from fleetui.common.startup import broker_transport_load

    broker_url("nosuchtransport://somewhere/")
    assert broker_transport_load() is None
