"""The MLflow client: lists experiments and pages through their traces.

The base location is `MLFLOW_TRACKING_URI` (a `sqlite:///` store or a tracking server).
Errors that mean "the store cannot be reached" become `TraceSourceUnavailable`, so an
import fails in seconds with a message instead of a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

ORDER_BY = ["timestamp_ms ASC", "request_id ASC"]


class TraceSourceUnavailable(Exception):
    """The MLflow tracking store could not be reached or answered with an error."""


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str


class TraceSource:
    """Reads traces from one MLflow tracking URI."""

    def __init__(self, tracking_uri: str):
        from mlflow import MlflowClient
        from mlflow.tracing.client import TracingClient

        self.tracking_uri = tracking_uri
        self._client = MlflowClient(tracking_uri=tracking_uri)
        self._tracing = TracingClient(tracking_uri)

    def experiments(self, wanted: list[str]) -> list[Experiment]:
        """The experiments to import: those named or numbered in `wanted`, or all active ones."""
        with _unavailable("list experiments"):
            found = []
            page_token = None
            while True:
                page = self._client.search_experiments(max_results=1000, page_token=page_token)
                found.extend(Experiment(str(e.experiment_id), e.name) for e in page)
                page_token = page.token
                if not page_token:
                    break
        if not wanted:
            return found
        by_key = {e.experiment_id: e for e in found} | {e.name: e for e in found}
        missing = [w for w in wanted if w not in by_key]
        if missing:
            logger.warning("MLFLOW_EXPERIMENTS names unknown experiments: %s", ", ".join(missing))
        return [by_key[w] for w in wanted if w in by_key]

    def trace_infos(self, experiment_id: str, *, filter_string: str, page_size: int) -> Iterator[list[Any]]:
        """Pages of `TraceInfo` (no spans), oldest first; the page token never leaves this call."""
        page_token = None
        while True:
            with _unavailable("search traces"):
                page = self._client.search_traces(
                    locations=[experiment_id],
                    filter_string=filter_string,
                    order_by=ORDER_BY,
                    max_results=page_size,
                    page_token=page_token,
                    include_spans=False,
                )
            infos = [trace.info for trace in page]
            if infos:
                yield infos
            page_token = page.token
            if not page_token:
                return

    def load(self, trace_ids: list[str]) -> dict[str, Any]:
        """Complete traces with spans, by id; traces whose spans are incomplete are left out."""
        if not trace_ids:
            return {}
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

        store = self._tracing.store
        with _unavailable("load traces"):
            if isinstance(store, SqlAlchemyStore):
                # One query for the whole page; the generic path asks for ten at a time and
                # reads each trace's metadata twice.
                traces = store.batch_get_traces(trace_ids)
            else:
                traces = self._tracing.batch_get_traces(trace_ids)
        return {trace.info.trace_id: trace for trace in traces}

    def load_partial(self, trace_id: str) -> Any | None:
        """A trace with whatever spans reached the store, or None when it has none."""
        with _unavailable("load a partial trace"):
            try:
                return self._tracing.store.get_trace(trace_id, allow_partial=True)
            except TypeError:
                # Stores without partial reads (e.g. some plug-in stores).
                return None
            except Exception as exc:  # noqa: BLE001 - the store raises MlflowException subclasses
                if _is_connection_error(exc):
                    raise
                logger.info("trace %s has no readable spans: %s", trace_id, exc)
                return None


class _unavailable:
    """Turns connection failures into TraceSourceUnavailable, naming what was being done."""

    def __init__(self, action: str):
        self.action = action

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or isinstance(exc, TraceSourceUnavailable):
            return False
        if _is_connection_error(exc):
            raise TraceSourceUnavailable(f"MLflow could not {self.action}: {_short(exc)}") from exc
        return False


def _is_connection_error(exc: BaseException) -> bool:
    import requests
    from mlflow.exceptions import MlflowException

    if isinstance(exc, requests.exceptions.RequestException | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, MlflowException):
        text = str(exc)
        return any(
            marker in text
            for marker in ("API request to", "Max retries exceeded", "Connection refused", "Failed to establish")
        )
    try:
        import sqlalchemy.exc

        return isinstance(exc, sqlalchemy.exc.OperationalError)
    except ImportError:  # pragma: no cover
        return False


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]
