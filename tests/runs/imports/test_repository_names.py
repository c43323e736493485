"""Repository names are checked on import: a bad `fleet.repo` is an import error, never a Repository row."""

import pytest

from runs.demo.tracing import experiment, fleet_tags, tracking, write_trace
from runs.fleet.models import Attempt, Repository
from runs.imports.services import import_run_execute
from tests.mlflow_support import verify_span

pytestmark = pytest.mark.django_db(transaction=True)

BAD_NAMES = ["-evil/api", "acme/-rf", "../etc", "acme/..", "acme/.", "acme/api/extra", "acme/api;id", "acme/api.git"]


@pytest.fixture
def store(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with tracking(uri):
        yield uri, experiment("fleet/names")


def test_traces_with_bad_repository_names_become_import_errors_and_good_ones_import(store):
    uri, exp = store
    bad = {
        write_trace(experiment_id=exp, tags=fleet_tags(repo=name), spans=[verify_span()]): name for name in BAD_NAMES
    }
    good = write_trace(experiment_id=exp, tags=fleet_tags(repo="acme/.github"), spans=[verify_span()])

    run = import_run_execute(tracking_uri=uri, trigger="test")

    reasons = dict(run.error_rows.values_list("trace_id", "reason"))
    assert set(reasons) == set(bad)
    for trace_id, name in bad.items():
        assert reasons[trace_id].startswith(f"fleet.repo {name!r} "), reasons[trace_id]
    assert list(Repository.objects.values_list("full_name", flat=True)) == ["acme/.github"]
    assert list(Attempt.objects.values_list("trace_id", flat=True)) == [good]
