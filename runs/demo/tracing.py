"""Writes agent traces through MLflow's real tracing API: for the benchmarks, the demo's helpers and the tests."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


def dumps(value: Any) -> str:
    return json.dumps(value)
