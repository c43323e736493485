"""An import reads the next page's traces from MLflow while it writes the page before, and loses nothing."""

import threading

import pytest

from runs.demo.tracing import experiment, fleet_tags, tracking, write_trace
from runs.fleet.models import Attempt
from runs.imports import pages, services
from runs.imports.mlflow import TraceSource
from runs.imports.services import import_run_execute
from tests.mlflow_support import verify_span

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def store(tmp_path, settings):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with tracking(uri):
        exp = experiment("fleet/read-ahead")
        ids = [
            write_trace(experiment_id=exp, tags=fleet_tags(repo=f"acme/ahead-{i}"), spans=[verify_span(passed=i % 2)])
            for i in range(5)
        ]
    settings.MLFLOW_TRACKING_URI = uri
    settings.MLFLOW_EXPERIMENTS = []
    settings.IMPORT_PAGE_SIZE = 2
    return ids


def test_the_next_page_is_read_on_another_thread_while_the_page_before_is_written(store, monkeypatch):
    events = []
    load, store_page = TraceSource.load, pages.page_store

    def recorded_load(self, trace_ids):
        events.append(("read", tuple(trace_ids), threading.current_thread().name))
        return load(self, trace_ids)

    def recorded_store(plan, source, **kwargs):
        ids = tuple(info.trace_id for info, _ in plan.to_load)
        events.append(("write start", ids, threading.current_thread().name))
        ended = store_page(plan, source, **kwargs)
        events.append(("write end", ids, threading.current_thread().name))
        return ended

    read_ahead = pages.PagePlan.read_ahead

    def recorded_read_ahead(plan, reader, source):
        events.append(("read asked", tuple(info.trace_id for info, _ in plan.to_load), ""))
        return read_ahead(plan, reader, source)

    monkeypatch.setattr(TraceSource, "load", recorded_load)
    monkeypatch.setattr(services, "page_store", recorded_store)
    monkeypatch.setattr(pages.PagePlan, "read_ahead", recorded_read_ahead)

    run = import_run_execute()

    assert run.imported == 5 and Attempt.objects.count() == 5
    reads = [e for e in events if e[0] == "read"]
    writes = [e for e in events if e[0] == "write start"]
    assert [e[1] for e in reads] == [e[1] for e in writes]  # every page read once, written in order
    assert all(e[2].startswith("fleetui-import-read") for e in reads)
    assert all(not e[2].startswith("fleetui-import-read") for e in writes)
    # Each later page's read is asked for before the page before it is written.
    asked = [e for e in events if e[0] == "read asked"]
    for before, after in zip(writes, asked[1:], strict=False):
        assert events.index(after) < events.index(before)


def test_a_failed_read_of_a_later_page_fails_the_import_after_the_pages_before_are_kept(store, monkeypatch):
    load = TraceSource.load
    calls = []

    def failing_second_read(self, trace_ids):
        calls.append(trace_ids)
        if len(calls) == 2:
            raise RuntimeError("the MLflow store went away")
        return load(self, trace_ids)

    monkeypatch.setattr(TraceSource, "load", failing_second_read)

    run = import_run_execute()

    assert run.status == "failed" and "the MLflow store went away" in run.message
    assert Attempt.objects.count() == 2  # the first page was written in its own transaction
    monkeypatch.setattr(TraceSource, "load", load)
    again = import_run_execute()
    assert again.status == "succeeded" and Attempt.objects.count() == 5
