"""A chunk of items in one task: each claimed once, up to the migration's concurrency, outcomes fenced by the claim."""

import threading
from collections import Counter

import pytest

from runs.fleet.models import Outcome
from runs.reruns import chunks
from runs.reruns.chunks import rerun_chunk_execute
from runs.reruns.models import RerunItem, RerunState
from runs.reruns.runners.base import Runner, RunResult, TransientRunnerError
from runs.reruns.services import rerun_batch_create
from tests.factories import make_attempt, make_migration, make_repo, make_user


class FakeRunner(Runner):
    name = "command"

    def __init__(self, *, fail=(), transient=(), during=None):
        self.calls = Counter()
        self.fail, self.transient, self.during = set(fail), set(transient), during
        self.lock = threading.Lock()

    def dispatch(self, job, *, on_started=None):
        with self.lock:
            self.calls[job.repo] += 1
        if job.repo in self.transient:
            raise TransientRunnerError("the runner is busy")
        on_started(f"pid:{job.item_id}")
        if self.during is not None:
            self.during(job)
        if job.repo in self.fail:
            return RunResult(state="failed", runner_ref="", exit_code=3, output_tail="boom", error="exited with 3")
        return RunResult(state="succeeded", runner_ref="", exit_code=0, output_tail="ok")


@pytest.fixture
def runner(monkeypatch, settings):
    settings.FLEETUI_RUNNER = "command"
    monkeypatch.setattr("runs.reruns.services.rerun_items_enqueue", lambda **kw: None)
    monkeypatch.setattr("runs.reruns.services._watchdog_on_commit", lambda: None)
    fake = FakeRunner()
    monkeypatch.setattr(chunks, "runner_get", lambda name=None: fake)
    return fake


def batch_of(names):
    migration = make_migration("chunks")
    for name in names:
        make_attempt(migration, make_repo(name), outcome=Outcome.VERIFY_FAILED)
    batch = rerun_batch_create(migration=migration, user=make_user(), repos=names, runner="command")
    return batch, list(batch.items.order_by("pk").values_list("pk", flat=True))


def states(batch) -> dict[str, str]:
    return dict(batch.items.values_list("repository__full_name", "state"))


@pytest.mark.django_db(transaction=True)
def test_a_chunk_delivered_twice_dispatches_each_item_once_and_closes_its_batch(runner):
    names = [f"acme/chunk-{i}" for i in range(6)]
    batch, ids = batch_of(names)

    first = rerun_chunk_execute(item_ids=ids)
    again = rerun_chunk_execute(item_ids=ids)

    assert runner.calls == Counter(names)
    assert sorted(first.done) == ids and again.done == again.later == again.alone == []
    assert set(states(batch).values()) == {RerunState.SUCCEEDED}
    tokens = set(batch.items.values_list("dispatch_token", flat=True))
    assert len(tokens) == len(names) and all(token.endswith(":1") for token in tokens)
    batch.refresh_from_db()
    assert batch.finished_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_chunk_claims_no_more_than_the_migrations_concurrency_and_leaves_the_rest_queued(runner, settings):
    settings.RERUN_CONCURRENCY = 2
    batch, ids = batch_of([f"acme/limit-{i}" for i in range(5)])
    in_flight = []
    runner.during = lambda job: in_flight.append(
        RerunItem.objects.filter(batch=batch, state__in=(RerunState.DISPATCHED, RerunState.RUNNING)).count()
    )

    result = rerun_chunk_execute(item_ids=ids)

    assert sorted(result.done) == ids[:2] and result.later == ids[2:]
    assert max(in_flight) <= 2
    assert batch.items.filter(state=RerunState.QUEUED, tries=0).count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_run_is_recorded_as_started_before_it_goes_on(runner):
    batch, ids = batch_of(["acme/started-a", "acme/started-b"])
    seen = {}

    def during(job):
        # Read on the run's own thread, from the database: the writer has committed it already.
        seen[job.repo] = RerunItem.objects.filter(pk=job.item_id).values_list("state", "started", "runner_ref").get()

    runner.during = during
    rerun_chunk_execute(item_ids=ids)

    assert seen == {
        "acme/started-a": (RerunState.RUNNING, True, f"pid:{ids[0]}"),
        "acme/started-b": (RerunState.RUNNING, True, f"pid:{ids[1]}"),
    }


@pytest.mark.django_db(transaction=True)
def test_each_run_of_a_chunk_gets_its_own_outcome_and_a_busy_runner_retries_the_item_alone(runner):
    runner.fail, runner.transient = {"bad/one"}, {"busy/one"}
    batch, ids = batch_of(["acme/fine", "bad/one", "busy/one"])

    result = rerun_chunk_execute(item_ids=ids)

    items = {i.repository.full_name: i for i in batch.items.select_related("repository")}
    assert items["acme/fine"].state == RerunState.SUCCEEDED and items["acme/fine"].exit_code == 0
    assert items["bad/one"].state == RerunState.FAILED and items["bad/one"].exit_code == 3
    assert items["bad/one"].output_tail == "boom" and "exited with 3" in items["bad/one"].error
    assert items["busy/one"].state == RerunState.QUEUED and "busy" in items["busy/one"].error
    assert result.retry == [items["busy/one"].pk]


@pytest.mark.django_db(transaction=True)
def test_an_item_taken_back_while_its_chunk_ran_keeps_what_the_watchdog_wrote(runner):
    batch, ids = batch_of(["acme/taken"])

    def during(job):
        RerunItem.objects.filter(pk=job.item_id).update(state=RerunState.QUEUED, claim_token="", heartbeat_at=None)

    runner.during = during
    rerun_chunk_execute(item_ids=ids)

    item = batch.items.get()
    assert (item.state, item.claim_token) == (RerunState.QUEUED, "")


@pytest.mark.django_db(transaction=True)
def test_an_item_in_flight_when_its_chunk_comes_again_is_left_to_its_own_task(runner):
    batch, ids = batch_of(["acme/busy-a", "acme/busy-b"])
    RerunItem.objects.filter(pk=ids[0]).update(state=RerunState.RUNNING, claim_token="live", started=True)

    result = rerun_chunk_execute(item_ids=ids)

    assert result.alone == [ids[0]] and result.done == [ids[1]]
    assert runner.calls == Counter(["acme/busy-b"])
