"""Write the demo fleet's attempts as MLflow traces, through MLflow's own tracing API."""

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from runs.demo.edits import session_edits
from runs.demo.entities import DemoAttempt, DemoEdit, DemoFleet, DemoVerifyCall

EXPERIMENT_PREFIX = "fleet/"
NS_PER_S = 1_000_000_000


@dataclass
class WriteSummary:
    """How many traces were written, per migration experiment."""

    traces: int
    experiments: dict[str, str]
    assessments: int


def experiment_name(migration_slug: str) -> str:
    return f"{EXPERIMENT_PREFIX}{migration_slug}"


def _artifact_root(tracking_uri: str) -> str | None:
    # Without an explicit location MLflow puts artifacts in ./mlruns of whatever directory the
    # command runs from; keep them next to the sqlite file instead.
    parsed = urlparse(tracking_uri)
    if parsed.scheme != "sqlite":
        return None
    db_path = Path(unquote(tracking_uri[len("sqlite:///") :]))
    return (db_path.parent / "mlflow-artifacts").resolve().as_uri()


def configure_tracking(tracking_uri: str) -> None:
    """Point MLflow at tracking_uri with synchronous trace export."""
    import mlflow
    from mlflow.tracing.provider import reset

    # The exporter reads this variable once, when the tracer provider is built; resetting the
    # provider makes a provider built earlier in this process pick it up too.
    if os.environ.get("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING") != "false":
        os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"
        reset()
    mlflow.set_tracking_uri(tracking_uri)


def experiment_ensure(*, migration_slug: str, tracking_uri: str) -> str:
    """Return the id of the migration's experiment, creating it when absent."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    name = experiment_name(migration_slug)
    found = client.get_experiment_by_name(name)
    if found is not None:
        if found.lifecycle_stage == "deleted":
            client.restore_experiment(found.experiment_id)
        return found.experiment_id
    root = _artifact_root(tracking_uri)
    location = f"{root}/{migration_slug}" if root else None
    return client.create_experiment(name, artifact_location=location, tags={"fleet.migration": migration_slug})


def _tags(attempt: DemoAttempt) -> dict[str, str]:
    if attempt.damage == "untagged":
        return {}
    tags = {
        "fleet.migration": attempt.migration.slug,
        "fleet.repo": attempt.repo.full_name,
        "fleet.attempt": str(attempt.number),
        "fleet.phase": attempt.phase,
        "fleet.migration_title": attempt.migration.title,
    }
    if attempt.prompt_rev is not None:
        tags["fleet.prompt_rev"] = str(attempt.prompt_rev)
    if attempt.pr_url:
        tags["fleet.pr_url"] = attempt.pr_url
    if attempt.outcome == "no_change":
        tags["fleet.outcome"] = "no_change"
    if attempt.outcome == "agent_error" and attempt.error_via_tag:
        tags["fleet.outcome"] = "agent_error"
    if attempt.damage == "no_repo":
        del tags["fleet.repo"]
    return tags


def _verify_outputs(attempt: DemoAttempt, call: DemoVerifyCall, position: int) -> tuple[str, dict, object]:
    """The span name, inputs and outputs of one verifier call in the attempt's shape."""
    payload = {"verifier": call.kind, "passed": call.passed, "output": call.output, "exit_code": call.exit_code}
    if attempt.damage == "bad_json":
        # A verify tool that crashed half-way through writing its JSON answer.
        text = json.dumps(payload)
        return "verify", {"repo": attempt.repo.full_name}, text[: len(text) - 40]
    if attempt.verify_shape == "mcp":
        text = json.dumps(payload)
        blocks = [text] if position % 3 else [text[: len(text) // 2], text[len(text) // 2 :]]
        return (
            "tool_mcp__fleet__verify",
            {"repo": attempt.repo.full_name},
            {"result": [{"type": "text", "text": t} for t in blocks]},
        )
    if attempt.verify_shape == "bash":
        lines = call.output.splitlines(keepends=True)
        stderr = "".join(line for line in lines if line.startswith(("npm error", "npm warn", "e: ")))
        stdout = "".join(line for line in lines if not line.startswith(("npm error", "npm warn", "e: ")))
        inputs = {"command": call.command, "description": "Run the build, linters and tests"}
        return "tool_Bash", inputs, {"stdout": stdout, "stderr": stderr, "exit_code": call.exit_code}
    return "verify", {"repo": attempt.repo.full_name, "command": call.command}, payload


def _edit_span(edit: DemoEdit) -> tuple[str, dict, dict]:
    """The span name, inputs and outputs of one file edit, as Claude Code's tracing logs the tool call."""
    if edit.tool == "Write":
        inputs: dict = {"file_path": edit.file_path, "content": edit.content}
        return "tool_Write", inputs, {"result": f"File created successfully at: {edit.file_path}"}
    if edit.tool == "MultiEdit":
        inputs = {"file_path": edit.file_path, "edits": [{"old_string": o, "new_string": n} for o, n in edit.edits]}
        result = f"Applied {len(edit.edits)} edits to {edit.file_path}"
        return "tool_MultiEdit", inputs, {"result": result}
    inputs = {"file_path": edit.file_path, "old_string": edit.old, "new_string": edit.new, "replace_all": False}
    return "tool_Edit", inputs, {"result": f"The file {edit.file_path} has been updated successfully."}


def _llm_cost(model: str, input_tokens: int, output_tokens: int) -> dict[str, float]:
    per_million = {"claude-sonnet-4-5": (3.0, 15.0), "gpt-4.1": (2.0, 8.0)}.get(model, (1.0, 4.0))
    input_cost = input_tokens * per_million[0] / 1_000_000
    output_cost = output_tokens * per_million[1] / 1_000_000
    return {
        "input_cost": round(input_cost, 6),
        "output_cost": round(output_cost, 6),
        "total_cost": round(input_cost + output_cost, 6),
    }


def write_attempt_trace(attempt: DemoAttempt, *, tracking_uri: str, experiment_id: str | None = None) -> str:
    """Write one attempt as an MLflow trace, exported before this returns, and return its trace id."""
    import mlflow

    if mlflow.get_tracking_uri() != tracking_uri or os.environ.get("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING") != "false":
        configure_tracking(tracking_uri)
    if experiment_id is None:
        experiment_id = experiment_ensure(migration_slug=attempt.migration.slug, tracking_uri=tracking_uri)
    trace_id = attempt_spans_write(attempt, experiment_id=experiment_id)
    attempt_feedback_write(attempt, trace_id=trace_id)
    return trace_id


def attempt_spans_write(attempt: DemoAttempt, *, experiment_id: str) -> str:
    """Start and end the attempt's spans with MLflow's tracing API (the configured exporter writes them)."""
    import mlflow
    from mlflow.entities import SpanType
    from mlflow.tracing.provider import safe_set_span_in_context

    cursor = attempt.started_at_ms * 1_000_000
    if attempt.damage == "untagged":
        root_name, root_type, inputs = (
            "playground",
            SpanType.CHAIN,
            {"question": f"Summarise the README of {attempt.repo.full_name}"},
        )
    elif attempt.phase == "baseline":
        root_name, root_type, inputs = "baseline", SpanType.CHAIN, {"repo": attempt.repo.full_name}
    else:
        root_name, root_type = "agent", SpanType.AGENT
        inputs = {"prompt": attempt.prompt_text, "repo": attempt.repo.full_name}
    root = mlflow.start_span_no_context(
        root_name, span_type=root_type, inputs=inputs, experiment_id=experiment_id, start_time_ns=cursor
    )
    with safe_set_span_in_context(root):
        if tags := _tags(attempt):
            mlflow.update_current_trace(tags=tags)

    def child(
        name: str, span_type: str, seconds: float, inputs: object, outputs: object, attributes: dict | None = None
    ) -> str:
        nonlocal cursor
        span = mlflow.start_span_no_context(
            name, span_type=span_type, parent_span=root, inputs=inputs, start_time_ns=cursor
        )
        for key, value in (attributes or {}).items():
            span.set_attribute(key, value)
        span.set_outputs(outputs)
        cursor += int(seconds * NS_PER_S)
        span.end(end_time_ns=cursor)
        cursor += 200_000_000
        return span.span_id

    calls = attempt.verify_calls
    turns = attempt.llm_calls
    # The session's edits go just before its last (passing) verifier call, or after its last turn.
    edits = [*attempt.edits, *session_edits(attempt)]

    def verify(position: int) -> None:
        if position == len(calls) - 1:
            write_edits()
        name, span_inputs, outputs = _verify_outputs(attempt, calls[position], position)
        child(name, SpanType.TOOL, calls[position].duration_s, span_inputs, outputs)

    def write_edits() -> None:
        while edits:
            name, span_inputs, outputs = _edit_span(edits.pop(0))
            child(name, SpanType.TOOL, 0.4, span_inputs, outputs)

    # Spread the verifier calls over the conversation: each one follows the turn that asked for it.
    after_turn = {round((i + 1) * len(turns) / (len(calls) + 1)) - 1: i for i in range(len(calls))} if turns else {}
    pending = list(range(len(calls))) if not turns else []
    for turn_index, turn in enumerate(turns):
        usage = {
            "input_tokens": turn.input_tokens,
            "output_tokens": turn.output_tokens,
            "total_tokens": turn.input_tokens + turn.output_tokens,
        }
        child(
            "chat",
            SpanType.CHAT_MODEL,
            turn.duration_s,
            {"model": turn.model, "messages": [{"role": "user", "content": turn.summary}]},
            {"role": "assistant", "content": f"Working on it: {turn.summary}."},
            {
                "mlflow.chat.tokenUsage": usage,
                "mlflow.llm.model": turn.model,
                "mlflow.llm.cost": _llm_cost(turn.model, turn.input_tokens, turn.output_tokens),
            },
        )
        if turn_index in after_turn:
            pending.append(after_turn[turn_index])
        while pending:
            verify(pending.pop(0))
    for position in pending:
        verify(position)
    write_edits()

    verdict, rationale = attempt.judge or ("", "")
    if attempt.judge and not (attempt.judge_as_assessment and verdict == "approve"):
        # A later assessment overrides the span: the first judge pass approved, the re-run rejected.
        span_verdict = "approve" if attempt.judge_as_assessment else verdict
        span_rationale = "The diff is consistent with the migration." if attempt.judge_as_assessment else rationale
        child(
            "judge",
            SpanType.EVALUATOR,
            8.5,
            {"pr_url": attempt.pr_url, "repo": attempt.repo.full_name},
            {"verdict": span_verdict, "rationale": span_rationale},
        )

    root_outputs = {"pr_url": attempt.pr_url} if attempt.pr_url else {"summary": attempt.outcome.replace("_", " ")}
    root.set_outputs(root_outputs)
    if attempt.error_message and not attempt.error_via_tag:
        root.record_exception(attempt.error_message)
        root.end(status="ERROR", end_time_ns=cursor)
    else:
        root.end(end_time_ns=cursor)
    return root.trace_id


def attempt_feedback_write(attempt: DemoAttempt, *, trace_id: str) -> bool:
    """Log the judge's verdict as an assessment of the stored trace when the attempt has one there."""
    import mlflow
    from mlflow.entities import AssessmentSource

    if not (attempt.judge and attempt.judge_as_assessment):
        return False
    verdict, rationale = attempt.judge
    mlflow.log_feedback(
        trace_id=trace_id,
        name="judge",
        value=verdict,
        rationale=rationale,
        source=AssessmentSource(source_type="LLM_JUDGE", source_id="judge"),
    )
    return True


@contextlib.contextmanager
def sqlite_without_fsync() -> Iterator[None]:
    """Skip SQLite's fsync on commit while the demo is written (one commit per span otherwise waits on disk)."""
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    def relax(dbapi_connection, connection_record, connection_proxy) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.execute("PRAGMA synchronous=OFF")

    event.listen(Pool, "checkout", relax)
    try:
        yield
    finally:
        event.remove(Pool, "checkout", relax)


def fleet_write(
    fleet: DemoFleet,
    *,
    tracking_uri: str,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> WriteSummary:
    """Write every attempt of the fleet into its migration's experiment, in batches and `workers` processes.

    The traces are those `write_attempt_trace` writes one at a time; afterwards the experiments must hold
    every one of them, or this raises.
    """
    from runs.demo.bulk import TraceWriteError, attempts_write

    configure_tracking(tracking_uri)
    experiments = {
        m.slug: experiment_ensure(migration_slug=m.slug, tracking_uri=tracking_uri) for m in fleet.migrations
    }
    before = traces_count(tracking_uri=tracking_uri, experiment_ids=list(experiments.values()))
    result = attempts_write(
        fleet.attempts, tracking_uri=tracking_uri, experiments=experiments, workers=workers, progress=progress
    )
    configure_tracking(tracking_uri)
    stored = traces_count(tracking_uri=tracking_uri, experiment_ids=list(experiments.values())) - before
    if stored != len(fleet.attempts):
        raise TraceWriteError(f"wrote {len(fleet.attempts)} demo traces but MLflow holds {stored} new ones")
    return WriteSummary(traces=len(fleet.attempts), experiments=experiments, assessments=result.assessments)


def traces_count(*, tracking_uri: str, experiment_ids: list[str]) -> int:
    """How many traces the experiments hold (read without their spans)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    count, token = 0, None
    while True:
        page = client.search_traces(locations=experiment_ids, max_results=500, include_spans=False, page_token=token)
        count += len(page)
        token = page.token
        if not token:
            return count


def fleet_exists(*, tracking_uri: str, migration_slugs: list[str]) -> bool:
    """Whether any of the migrations' experiments already holds traces."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    for slug in migration_slugs:
        found = client.get_experiment_by_name(experiment_name(slug))
        if found is not None and found.lifecycle_stage != "deleted":
            if client.search_traces(locations=[found.experiment_id], max_results=1):
                return True
    return False


def fleet_wipe(*, tracking_uri: str, migration_slugs: list[str]) -> int:
    """Delete every trace in the migrations' experiments; return how many were deleted."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    deleted = 0
    for slug in migration_slugs:
        found = client.get_experiment_by_name(experiment_name(slug))
        if found is not None:
            # Far in the future so traces whose start times were set ahead are deleted too.
            deleted += client.delete_traces(found.experiment_id, max_timestamp_millis=2**62)
    return deleted
