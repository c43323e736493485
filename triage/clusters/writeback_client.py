"""The MLflow assessments client of the write-back: log, update and delete feedback on traces.

Errors come out as the vendor errors every task retries the same way: `TransientAPIError` when the tracking
store could not be reached, `PermanentAPIError` otherwise, and `NotFound` when the trace or the assessment is gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fleetui.common.errors import PermanentAPIError, TransientAPIError

VENDOR = "MLflow"
HUMAN = "HUMAN"
CODE = "CODE"


class NotFound(PermanentAPIError):
    """The trace, or the assessment on it, is not in MLflow (any more)."""


@dataclass(frozen=True)
class Label:
    """One feedback to write on one trace."""

    trace_id: str
    name: str
    value: Any
    source_type: str = CODE
    source_id: str = "fleetui"
    rationale: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


class AssessmentClient:
    """Writes feedback through MLflow's tracing client on one tracking URI."""

    def __init__(self, tracking_uri: str):
        from mlflow.tracing.client import TracingClient

        self._tracing = TracingClient(tracking_uri)

    def log(self, label: Label) -> str:
        """A new feedback on the trace; its assessment id."""
        with _errors(f"log {label.name}"):
            return self._tracing.log_assessment(label.trace_id, _feedback(label)).assessment_id

    def update(self, assessment_id: str, label: Label) -> str:
        """Changes value, rationale and metadata of an existing feedback in place; its assessment id."""
        with _errors(f"update {label.name}"):
            updated = self._tracing.update_assessment(
                trace_id=label.trace_id, assessment_id=assessment_id, assessment=_feedback(label)
            )
        return updated.assessment_id

    def delete(self, trace_id: str, assessment_id: str) -> None:
        with _errors("delete an assessment"):
            self._tracing.delete_assessment(trace_id=trace_id, assessment_id=assessment_id)

    def trace_exists(self, trace_id: str) -> bool:
        try:
            with _errors("read a trace"):
                self._tracing.get_trace_info(trace_id)
        except NotFound:
            return False
        return True


def _feedback(label: Label):
    from mlflow.entities import AssessmentSource, Feedback

    return Feedback(
        name=label.name,
        value=label.value,
        source=AssessmentSource(source_type=label.source_type, source_id=label.source_id),
        rationale=label.rationale,
        # MLflow keeps assessment metadata as strings.
        metadata={key: str(value) for key, value in label.metadata.items()},
    )


class _errors:
    """Turns what the tracking store raises into the vendor errors (NotFound, transient, permanent)."""

    def __init__(self, action: str):
        self.action = action

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or isinstance(exc, PermanentAPIError | TransientAPIError):
            return False
        message = f"could not {self.action}: {_short(exc)}"
        if _is_not_found(exc):
            raise NotFound(message, vendor=VENDOR) from exc
        if _is_transient(exc):
            raise TransientAPIError(message, vendor=VENDOR) from exc
        if isinstance(exc, Exception):
            raise PermanentAPIError(message, vendor=VENDOR) from exc
        return False


def _is_not_found(exc: BaseException) -> bool:
    from mlflow.exceptions import MlflowException

    return isinstance(exc, MlflowException) and exc.error_code == "RESOURCE_DOES_NOT_EXIST"


def _is_transient(exc: BaseException) -> bool:
    import requests
    from mlflow.exceptions import MlflowException

    if isinstance(exc, requests.exceptions.RequestException | ConnectionError | TimeoutError):
        return True
    if isinstance(exc, MlflowException):
        # A tracking server answering 429 or 5xx, or not answering: worth another try later.
        if exc.error_code in {"TEMPORARILY_UNAVAILABLE", "INTERNAL_ERROR", "REQUEST_LIMIT_EXCEEDED"}:
            return True
        return any(mark in str(exc) for mark in ("API request to", "Max retries exceeded", "Connection refused"))
    try:
        import sqlalchemy.exc

        # A locked or unreachable database store.
        return isinstance(exc, sqlalchemy.exc.OperationalError)
    except ImportError:  # pragma: no cover
        return False


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]
