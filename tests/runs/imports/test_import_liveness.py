"""Import runs carry a heartbeat: one whose worker is gone is run again and no longer blocks the schedule."""

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.demo.tracing import experiment, fleet_tags, tracking, write_trace
from runs.fleet.models import Attempt
from runs.imports import services
from runs.imports.models import ImportRun, ImportRunError
from runs.imports.services import import_run_execute, import_runs_recover
from runs.imports.tasks import import_traces_task
from tests.factories import make_import_run
from tests.mlflow_support import verify_span


@pytest.fixture
def store(tmp_path, settings):
    """An MLflow store with three finished agent sessions, which imports read."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with tracking(uri):
        exp = experiment("fleet/liveness")
        ids = [
            write_trace(experiment_id=exp, tags=fleet_tags(repo=f"acme/live-{i}"), spans=[verify_span()])
            for i in range(3)
        ]
    settings.MLFLOW_TRACKING_URI = uri
    settings.MLFLOW_EXPERIMENTS = []
    return ids


@pytest.fixture
def sent(monkeypatch):
    """Import tasks handed to the broker."""
    calls = []
    monkeypatch.setattr(import_traces_task, "delay", lambda run_id=None: calls.append(run_id))
    return calls


def left_running(**fields) -> ImportRun:
    """An import its worker left running an hour ago (the heartbeat timeout is a minute)."""
    long_ago = timezone.now() - timedelta(hours=1)
    run = make_import_run(
        status=ImportRun.Status.RUNNING,
        started_at=long_ago,
        errors=2,
        **{"heartbeat_at": long_ago, "claim_token": "gone-worker", "seen": 7, "imported": 3, **fields},
    )
    return run


@pytest.mark.django_db(transaction=True)
def test_an_import_left_running_by_a_gone_worker_no_longer_blocks_the_scheduled_import(store, sent):
    stale = left_running()

    import_traces_task()

    stale.refresh_from_db()
    # Taken back and sent again; the schedule waits one tick for it.
    assert (stale.status, stale.recoveries, stale.claim_token) == (ImportRun.Status.QUEUED, 1, "")
    assert (stale.seen, stale.imported, stale.errors) == (0, 0, 0)
    assert not ImportRunError.objects.filter(run=stale).exists()
    assert sent == [stale.pk] and ImportRun.objects.count() == 1

    import_traces_task(stale.pk)
    stale.refresh_from_db()
    assert stale.status == ImportRun.Status.SUCCEEDED and stale.imported == 3
    assert sorted(Attempt.objects.values_list("trace_id", flat=True)) == sorted(store)

    import_traces_task()
    latest = ImportRun.objects.exclude(pk=stale.pk).get()
    assert latest.status == ImportRun.Status.SUCCEEDED and latest.trigger == "schedule"


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_worker_still_beats_keeps_the_schedule_waiting(store, sent):
    alive = left_running(heartbeat_at=timezone.now())

    import_traces_task()

    alive.refresh_from_db()
    assert (alive.status, alive.recoveries) == (ImportRun.Status.RUNNING, 0)
    assert ImportRun.objects.count() == 1 and sent == [] and not Attempt.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_watchdogs_take_an_import_back_once(sent):
    stale = left_running()

    first, second = import_runs_recover(), import_runs_recover()

    stale.refresh_from_db()
    assert (first.retried, second.retried, second.given_up) == ([stale.pk], [], [])
    assert stale.recoveries == 1 and sent == [stale.pk]


@pytest.mark.django_db(transaction=True)
def test_an_import_taken_back_for_the_third_time_needs_a_person(sent):
    stale = left_running(recoveries=2)

    recovered = import_runs_recover()

    stale.refresh_from_db()
    assert recovered.given_up == [stale.pk] and sent == []
    assert stale.status == ImportRun.Status.FAILED and "needs a person" in stale.message and stale.done


@pytest.mark.django_db
def test_a_taken_back_run_writes_nothing_over_its_retry():
    run = ImportRun.objects.create()
    original = ImportRun.objects.get(pk=run.pk)
    assert original.claim() and original.beat()
    ImportRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert ImportRun.recover_stale().retried == [run.pk]
    retry = ImportRun.objects.get(pk=run.pk)
    assert retry.claim()

    late_beat = original.beat()
    late_end = original.finish(ImportRun.Status.FAILED, message="the original, late")
    retried = retry.finish(ImportRun.Status.SUCCEEDED, message="")

    stored = ImportRun.objects.get(pk=run.pk)
    assert (late_beat, late_end, retried) == (False, False, True)
    assert (stored.status, stored.message) == (ImportRun.Status.SUCCEEDED, "")


@pytest.mark.django_db(transaction=True)
def test_an_import_taken_back_mid_run_stops_before_its_next_page(store, sent, settings, monkeypatch):
    settings.IMPORT_PAGE_SIZE = 1
    run = ImportRun.objects.create(trigger="manual")
    pages = []
    read_page = services._import_page

    def page_then_gone(*args, **kwargs):
        pages.append(1)
        ended = read_page(*args, **kwargs)
        # The worker stalls after its first page past the timeout; the watchdog takes the run back.
        ImportRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
        assert import_runs_recover().retried == [run.pk]
        return ended

    monkeypatch.setattr(services, "_import_page", page_then_gone)

    returned = import_run_execute(run_id=run.pk)

    assert len(pages) == 1 and Attempt.objects.count() == 1
    assert returned.status == ImportRun.Status.QUEUED and returned.message == "its worker stopped; queued again"
    assert sent == [run.pk]
