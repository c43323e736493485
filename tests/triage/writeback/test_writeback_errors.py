"""An unreachable tracking server is retried later; what failed stays visible on the label's record."""

import pytest

from fleetui.common.errors import TransientAPIError
from tests.mlflow_support import free_port
from tests.triage.writeback.helpers import SYMBOL, assessments, failing_trace, import_traces
from triage.clusters.models import ClusterMember, MlflowLabel
from triage.clusters.tasks import mlflow_writeback_task
from triage.clusters.writeback import CLUSTER, writeback_run

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_unreachable_tracking_server_fails_the_run_for_a_retry_and_is_recorded(store, eager, settings):
    settings.MLFLOW_WRITEBACK = False
    trace_id = failing_trace(store, "acme/sym-0", SYMBOL)
    import_traces(store)
    migration_id = ClusterMember.objects.get(attempt__trace_id=trace_id).migration_id
    settings.MLFLOW_WRITEBACK = True
    settings.MLFLOW_TRACKING_URI = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(TransientAPIError):
        writeback_run(migration_id=migration_id)

    record = MlflowLabel.objects.get(trace_id=trace_id, name=CLUSTER)
    assert record.status == MlflowLabel.Status.FAILED and "could not log fleet.cluster" in record.error
    assert record.claimed_at is None
    assert TransientAPIError in mlflow_writeback_task.autoretry_for and mlflow_writeback_task.retry_backoff

    # The server is back: the retry writes the label once.
    settings.MLFLOW_TRACKING_URI = store.uri
    counts = writeback_run(migration_id=migration_id)

    assert counts.written == 2 and counts.failed == 0
    title = ClusterMember.objects.select_related("cluster").get(attempt__trace_id=trace_id).cluster.title
    assert [a.value for a in assessments(store, trace_id, CLUSTER)] == [title]
    assert MlflowLabel.objects.get(trace_id=trace_id, name=CLUSTER).status == MlflowLabel.Status.WRITTEN
