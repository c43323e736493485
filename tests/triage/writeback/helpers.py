"""Traces written through MLflow's API, imported and clustered as the product does, and their labels read back."""

from mlflow import MlflowClient

from runs.demo.tracing import fleet_tags, write_trace
from runs.imports.services import import_run_execute
from tests.mlflow_support import verify_span

SYMBOL = (
    "[ERROR] /home/ci/{repo}/src/main/java/com/acme/Service.java:[12,7] cannot find symbol\n"
    "[ERROR]   symbol:   class JsonParser\n[ERROR]   location: package com.fasterxml.jackson.core\nBUILD FAILURE"
)
ASSERTION = (
    "[ERROR] com.acme.ApiTest.shouldReturnOk  <<< FAILURE!\n"
    "org.opentest4j.AssertionFailedError: expected: <200> but was: <404>\n[ERROR] Tests run: 3, Failures: 1\n"
    "BUILD FAILURE"
)


def failing_trace(store, repo: str, output: str, *, migration: str = "junit5") -> str:
    """A migration attempt whose maven verifier failed with `output`; its trace id."""
    return write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(migration=migration, repo=repo),
        spans=[verify_span(passed=False, output=output.format(repo=repo.split("/")[-1]))],
    )


def import_traces(store) -> None:
    """One import, which places the new failures in clusters (and so writes the labels when enabled)."""
    import_run_execute(tracking_uri=store.uri, trigger="test")


def assessments(store, trace_id: str, name: str | None = None) -> list:
    """The valid assessments on the trace as MLflow answers them, of one name or all."""
    found = MlflowClient(tracking_uri=store.uri).get_trace(trace_id).info.assessments
    return [a for a in found if (name is None or a.name == name) and a.valid is not False]
