"""Test-only MLflow helpers: a verifier span, damaged traces, and a real tracking server process.

Traces themselves are written with `runs.demo.tracing`, which the demo and the benchmarks use too.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mlflow.entities import SpanType


def verify_span(verifier: str = "maven", passed: bool = True, output: str = "BUILD SUCCESS", name: str = "verify"):
    return {"name": name, "type": SpanType.TOOL, "outputs": {"verifier": verifier, "passed": passed, "output": output}}


def drop_spans(db_path: Path, trace_id: str, *, keep: int) -> None:
    """Deletes span rows from a sqlite store, as a lossy exporter would leave a trace."""
    import sqlite3

    with sqlite3.connect(db_path) as con:
        rows = con.execute("SELECT span_id FROM spans WHERE trace_id = ? ORDER BY start_time_unix_nano", (trace_id,))
        ids = [row[0] for row in rows]
        for span_id in ids[keep:]:
            con.execute("DELETE FROM spans WHERE trace_id = ? AND span_id = ?", (trace_id, span_id))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def mlflow_server(backend_uri: str, artifacts: Path) -> Iterator[str]:
    """Runs a real `mlflow server` on a free loopback port; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            backend_uri,
            "--default-artifact-root",
            str(artifacts),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError("mlflow server exited during start-up")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    import urllib.request

                    with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                        if response.status == 200:
                            break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("mlflow server did not start within 90 s")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
