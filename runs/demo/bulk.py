"""Write many demo attempts quickly: MLflow's batched trace export, in one process or several writing one store.

Each attempt is the same trace `write_attempt_trace` writes (the same spans, tags, times and assessment);
only the export differs. Instead of one store write per span as it ends, MLflow's batch span processor
hands a chunk of attempts' spans to the store in one `log_spans` call per experiment, followed by one
`start_trace` per trace, and the chunk is flushed before the next begins. Judge assessments are logged once
their traces are stored. Chunks can be spread over helper processes (`workers`), but SQLite serialises
their commits: on two cores a second writer measured no faster, so one is the default.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from runs.demo.entities import DemoAttempt

CHUNK_ATTEMPTS = 80
# MLflow's settings for its asynchronous, batched export: one writer thread (the store sees the writes in
# order: a chunk's spans, then its traces), batches as large as its span queue, exported on flush.
BATCHED_EXPORT_ENV = {
    "MLFLOW_ENABLE_ASYNC_TRACE_LOGGING": "true",
    "MLFLOW_USE_BATCH_SPAN_PROCESSOR": "true",
    "MLFLOW_ASYNC_TRACE_LOGGING_MAX_WORKERS": "1",
    "MLFLOW_ASYNC_TRACE_LOGGING_MAX_SPAN_BATCH_SIZE": "2048",
    "MLFLOW_ASYNC_TRACE_LOGGING_MAX_INTERVAL_MILLIS": "600000",
    "MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE": "5000",
}
EXPORT_LOGGERS = ("mlflow.tracing.export", "mlflow.tracing.processor", "mlflow.store")


class TraceWriteError(RuntimeError):
    """MLflow reported a failed trace or span write while the demo fleet was written."""


@dataclass
class ChunkResult:
    trace_ids: list[str]
    assessments: int
    seconds: float


class _FailureRecorder(logging.Handler):
    """Collects MLflow's export warnings: its asynchronous export logs a failed write instead of raising."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _BatchedExport:
    """MLflow's tracer set to export in batches, for one process: entered once, flushed after each chunk."""

    def __init__(self, tracking_uri: str) -> None:
        import mlflow
        from mlflow.tracing.provider import reset

        self.tracking_uri = tracking_uri
        self.previous = {name: os.environ.get(name) for name in BATCHED_EXPORT_ENV}
        os.environ.update(BATCHED_EXPORT_ENV)
        reset()  # the tracer provider reads these when it is built
        mlflow.set_tracking_uri(tracking_uri)
        self.recorder = _FailureRecorder()
        self.loggers = [logging.getLogger(name) for name in EXPORT_LOGGERS]
        for logger in self.loggers:
            logger.addHandler(self.recorder)

    def flush(self) -> None:
        """Wait until every span and trace started so far is stored; raise if MLflow reported a failed write."""
        import mlflow

        mlflow.flush_trace_async_logging()
        if self.recorder.messages:
            messages, self.recorder.messages = self.recorder.messages, []
            raise TraceWriteError("; ".join(messages[:3]))

    def close(self) -> None:
        """Back to synchronous export, as `write_attempt_trace` expects."""
        from mlflow.tracing.provider import reset

        try:
            self.flush()
        finally:
            for logger in self.loggers:
                logger.removeHandler(self.recorder)
            for name, value in self.previous.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"
            reset()


_session: _BatchedExport | None = None  # this process's batched export; a helper process keeps its own to the end


def _batched_export(tracking_uri: str) -> _BatchedExport:
    global _session
    if _session is not None and _session.tracking_uri != tracking_uri:
        _session.close()
        _session = None
    if _session is None:
        _session = _BatchedExport(tracking_uri)
    return _session


def _batched_export_close() -> None:
    global _session
    if _session is not None:
        session, _session = _session, None
        session.close()


def chunk_write(attempts: list[DemoAttempt], tracking_uri: str, experiments: dict[str, str]) -> ChunkResult:
    """Write a chunk of attempts with this process's batched export, flush it, then log their judge assessments."""
    from runs.demo.writer import attempt_feedback_write, attempt_spans_write, sqlite_without_fsync

    started = time.monotonic()
    export = _batched_export(tracking_uri)
    with sqlite_without_fsync():
        trace_ids = [
            attempt_spans_write(attempt, experiment_id=experiments[attempt.migration.slug]) for attempt in attempts
        ]
        export.flush()
        assessments = sum(
            attempt_feedback_write(attempt, trace_id=trace_id)
            for attempt, trace_id in zip(attempts, trace_ids, strict=True)
        )
    return ChunkResult(trace_ids=trace_ids, assessments=assessments, seconds=time.monotonic() - started)


def default_workers() -> int:
    """One: SQLite takes one commit at a time, and a second writer process measured no faster (bench/demo_traces.py)."""
    return 1


def attempts_write(
    attempts: list[DemoAttempt],
    *,
    tracking_uri: str,
    experiments: dict[str, str],
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ChunkResult:
    """Write the attempts in chunks: this process and `workers - 1` helper processes take chunks in turn.

    This process starts writing at once, so helpers still starting (each imports MLflow) delay nothing;
    with `workers=1` it writes every chunk itself. Trace ids come back in attempt order.
    """
    started = time.monotonic()
    workers = default_workers() if workers is None else max(1, workers)
    chunks = [attempts[i : i + CHUNK_ATTEMPTS] for i in range(0, len(attempts), CHUNK_ATTEMPTS)]
    pending = list(range(len(chunks)))
    results: dict[int, ChunkResult] = {}
    done = 0

    def finished(index: int, result: ChunkResult) -> None:
        nonlocal done
        results[index] = result
        done += len(chunks[index])
        if progress:
            progress(done, len(attempts))

    helpers = min(workers - 1, len(chunks) - 1)
    try:
        _write_chunks(chunks, pending, helpers, tracking_uri, experiments, finished)
    finally:
        _batched_export_close()
    ordered = [results[i] for i in range(len(chunks))]
    return ChunkResult(
        trace_ids=[trace_id for result in ordered for trace_id in result.trace_ids],
        assessments=sum(result.assessments for result in ordered),
        seconds=time.monotonic() - started,
    )


def _write_chunks(chunks, pending, helpers, tracking_uri, experiments, finished) -> None:
    if helpers <= 0:
        for index in pending:
            finished(index, chunk_write(chunks[index], tracking_uri, experiments))
    else:
        # spawn, not fork: a forked child would share this process's open SQLite connections and MLflow state.
        with ProcessPoolExecutor(max_workers=helpers, mp_context=multiprocessing.get_context("spawn")) as pool:
            running = {}

            def hand_out() -> None:
                while pending and len(running) < helpers:
                    index = pending.pop()  # helpers take chunks from the end, this process from the start
                    running[pool.submit(chunk_write, chunks[index], tracking_uri, experiments)] = index

            def collect(block: bool) -> None:
                done_now = [f for f in running if f.done()] if not block else list(as_completed(running))
                for future in done_now:
                    finished(running.pop(future), future.result())

            hand_out()
            while pending:
                index = pending.pop(0)
                finished(index, chunk_write(chunks[index], tracking_uri, experiments))
                collect(block=False)
                hand_out()
            collect(block=True)
