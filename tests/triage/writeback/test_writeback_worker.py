"""On a real worker: an import's clustering labels the traces in MLflow, with no call from the web process."""

import pytest

from tests.celery_support import broker_in_use, broker_url, wait_for, worker_process
from tests.triage.writeback.helpers import SYMBOL, assessments, failing_trace, import_traces
from triage.clusters.models import ClusterMember, MlflowLabel
from triage.clusters.writeback import CLUSTER, LAYER

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_labels_the_traces_once_the_imports_clustering_finished(store, tmp_path, settings):
    settings.MLFLOW_WRITEBACK = False  # this process only imports; the worker writes
    trace_ids = [failing_trace(store, f"acme/sym-{n}", SYMBOL) for n in range(2)]
    env = {"FLEETUI_MLFLOW_WRITEBACK": "1", "MLFLOW_TRACKING_URI": store.uri}

    with broker_in_use(broker_url(tmp_path)) as broker, worker_process(broker=broker, env=env):
        import_traces(store)
        done = wait_for(lambda: MlflowLabel.objects.filter(status="written").count() == 4, timeout=90)

    assert done, list(MlflowLabel.objects.values_list("name", "status", "error"))
    for trace_id in trace_ids:
        title = ClusterMember.objects.select_related("cluster").get(attempt__trace_id=trace_id).cluster.title
        assert [a.value for a in assessments(store, trace_id, CLUSTER)] == [title]
        assert [a.value for a in assessments(store, trace_id, LAYER)] == ["agent"]
