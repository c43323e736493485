"""A failed call's snippet leaves out what the repository's passing baseline run of that verifier also printed."""

import pytest

from runs.demo.tracing import experiment, fleet_tags, tracking, write_trace
from runs.fleet.models import VerifierResult
from runs.imports.services import import_run_execute
from tests.mlflow_support import verify_span

pytestmark = pytest.mark.django_db(transaction=True)

WARNING = "WARNING: sun.misc.Unsafe::objectFieldOffset has been called, an error in a future release (took 0.4s)"
PASSING = "\n".join(["Starting the build", WARNING, "Tests run: 12, Failures: 0", "BUILD SUCCESS"])
FAILING = "\n".join(
    [
        "Starting the build",
        WARNING.replace("0.4s", "0.7s"),
        "LedgerTest.posts failed: expected <42> but was <41>",
        "Tests run: 12, Failures: 1",
        "BUILD FAILURE",
    ]
)


@pytest.fixture
def store(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with tracking(uri):
        yield type("Store", (), {"uri": uri, "experiment_id": experiment("fleet/junit5")})


def _import(store):
    return import_run_execute(tracking_uri=store.uri, trigger="test")


def _failed_snippet(store, repo: str) -> str:
    write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo=repo),
        spans=[verify_span(verifier="gradle", passed=False, output=FAILING)],
    )
    _import(store)
    return VerifierResult.objects.get(attempt__repository__full_name=repo, passed=False).snippet


def test_a_failure_after_an_imported_passing_baseline_leaves_out_their_shared_lines(store):
    write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo="acme/api", phase="baseline"),
        spans=[verify_span(verifier="gradle", passed=True, output=PASSING)],
    )
    _import(store)
    snippet = _failed_snippet(store, "acme/api")
    assert "expected <42> but was <41>" in snippet
    assert "objectFieldOffset" not in snippet
    assert snippet.splitlines()[-1].startswith("[fleetui] ") and "baseline" in snippet.splitlines()[-1]


def test_without_a_passing_baseline_of_that_repository_and_verifier_nothing_is_left_out(store):
    write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo="acme/other", phase="baseline"),
        spans=[verify_span(verifier="gradle", passed=True, output=PASSING)],
    )
    write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo="acme/api", phase="baseline"),
        spans=[verify_span(verifier="npm", passed=True, output=PASSING)],
    )
    _import(store)
    snippet = _failed_snippet(store, "acme/api")
    assert "objectFieldOffset" in snippet
    assert "[fleetui]" not in snippet
