"""'Import now' runs on a real Celery worker process, through the configured broker."""

import pytest
from django.db import transaction

from runs.demo.tracing import experiment, fleet_tags, tracking, write_trace
from runs.fleet.models import Attempt
from runs.imports.models import ImportRun
from runs.imports.services import import_run_enqueue
from tests.celery_support import broker_in_use, broker_url, wait_for, worker_process
from tests.mlflow_support import verify_span

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_an_enqueued_import_is_run_by_a_worker_process(tmp_path, settings):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with tracking(uri):
        exp = experiment("fleet/worker")
        ids = [
            write_trace(experiment_id=exp, tags=fleet_tags(repo=f"acme/w{i}"), spans=[verify_span()]) for i in range(3)
        ]
    broker = broker_url(tmp_path)
    settings.CELERY_BROKER_URL = broker
    with broker_in_use(broker), worker_process(broker=broker, env={"MLFLOW_TRACKING_URI": uri}):
        with transaction.atomic():
            run = import_run_enqueue(trigger="manual")
        finished = wait_for(lambda: ImportRun.objects.get(pk=run.pk).done, timeout=90)
    run.refresh_from_db()
    assert finished, f"the worker did not finish the import (status {run.status})"
    assert run.status == ImportRun.Status.SUCCEEDED, run.message
    assert sorted(Attempt.objects.values_list("trace_id", flat=True)) == sorted(ids)
