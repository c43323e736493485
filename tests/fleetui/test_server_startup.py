"""A web server process loads every view and freezes its heap before the first request."""

import os
import subprocess
import sys
from pathlib import Path

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
