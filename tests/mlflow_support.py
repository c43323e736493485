"""Writes agent traces through MLflow's real tracing API, for the importer's tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")

import mlflow  # noqa: E402
from mlflow.entities import SpanType  # noqa: E402

NS = 1_000_000


@contextmanager
def tracking(uri: str) -> Iterator[str]:
    """Points MLflow's fluent API at `uri` for the duration of the block."""
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        yield uri
    finally:
        mlflow.set_tracking_uri(previous)


def experiment(name: str) -> str:
    existing = mlflow.get_experiment_by_name(name)
    return existing.experiment_id if existing else mlflow.create_experiment(name)


def fleet_tags(migration: str = "junit5", repo: str = "acme/api", attempt: int = 1, phase: str = "migration", **extra):
    tags = {"fleet.migration": migration, "fleet.repo": repo, "fleet.attempt": str(attempt), "fleet.phase": phase}
    if phase == "migration":
        tags["fleet.prompt_rev"] = "1"
    tags.update({f"fleet.{key}": str(value) for key, value in extra.items()})
    return tags


def verify_span(verifier: str = "maven", passed: bool = True, output: str = "BUILD SUCCESS", name: str = "verify"):
    return {"name": name, "type": SpanType.TOOL, "outputs": {"verifier": verifier, "passed": passed, "output": output}}


def judge_span(verdict: str = "approve", rationale: str = "Does what was asked."):
    return {"name": "judge", "type": SpanType.EVALUATOR, "outputs": {"verdict": verdict, "rationale": rationale}}


def llm_span(input_tokens: int = 100, output_tokens: int = 20):
    usage = {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": input_tokens + output_tokens}
    return {"name": "claude", "type": SpanType.CHAT_MODEL, "attributes": {"mlflow.chat.tokenUsage": usage}}


def write_trace(
    *,
    experiment_id: str,
    tags: dict[str, str] | None,
    spans: list[dict[str, Any]] = (),
    start_ms: int | None = None,
    duration_ms: int = 1000,
    status: str = "OK",
    prompt: str | None = None,
) -> str:
    """Writes one finished trace with a root AGENT span and the given child spans."""
    start_ms = start_ms if start_ms is not None else int(time.time() * 1000) - duration_ms
    root = mlflow.start_span_no_context(
        "agent",
        span_type=SpanType.AGENT,
        inputs={"prompt": prompt} if prompt is not None else {"task": "migrate"},
        tags=tags or None,
        experiment_id=experiment_id,
        start_time_ns=start_ms * NS,
    )
    step = max(1, duration_ms // (len(spans) + 2))
    for index, spec in enumerate(spans, start=1):
        child = mlflow.start_span_no_context(
            spec["name"],
            span_type=spec.get("type", SpanType.UNKNOWN),
            parent_span=root,
            inputs=spec.get("inputs"),
            attributes=spec.get("attributes"),
            start_time_ns=(start_ms + index * step) * NS,
        )
        child.end(
            outputs=spec.get("outputs"), status=spec.get("status", "OK"), end_time_ns=(start_ms + index * step + 1) * NS
        )
    root.end(outputs={"done": True}, status=status, end_time_ns=(start_ms + duration_ms) * NS)
    return root.trace_id


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


def dumps(value: Any) -> str:
    return json.dumps(value)
