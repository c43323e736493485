"""The importer reading from a real `mlflow server` over HTTP, as in production."""

import pytest

from runs.demo.tracing import experiment, fleet_tags, judge_span, tracking, write_trace
from runs.fleet.models import Attempt, Outcome
from runs.imports.models import ImportRun
from runs.imports.services import import_run_execute
from tests.mlflow_support import mlflow_server, verify_span

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow-server")
    with mlflow_server(f"sqlite:///{root / 'server.db'}", root / "artifacts") as url:
        yield url


def test_it_imports_from_a_tracking_server_exactly_once(server):
    with tracking(server):
        exp = experiment("fleet/http-import")
        ids = [
            write_trace(
                experiment_id=exp,
                tags=fleet_tags(migration="http-demo", repo=f"acme/svc-{i}"),
                spans=[verify_span(passed=i % 2 == 0, output="[ERROR] BUILD FAILURE" if i % 2 else "ok"), judge_span()],
            )
            for i in range(6)
        ]
    first = import_run_execute(tracking_uri=server, experiments=["fleet/http-import"], trigger="test")
    second = import_run_execute(tracking_uri=server, experiments=["fleet/http-import"], trigger="test")
    assert first.status == ImportRun.Status.SUCCEEDED, first.message
    assert (first.imported, second.imported, second.updated) == (6, 0, 0)
    outcomes = dict(Attempt.objects.values_list("trace_id", "outcome"))
    assert {outcomes[trace_id] for trace_id in ids[1::2]} == {Outcome.VERIFY_FAILED}
    assert {outcomes[trace_id] for trace_id in ids[0::2]} == {Outcome.SUCCEEDED}
