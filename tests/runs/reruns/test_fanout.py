"""A large rerun batch goes out through fan-out tasks: few messages from the request, one dispatch per repository."""

from collections import Counter

import pytest

from runs.reruns import services
from runs.reruns.models import RerunItem, RerunState
from runs.reruns.services import rerun_batch_create, rerun_items_enqueue, task_id_for
from runs.reruns.tasks import rerun_item_task, rerun_items_fanout_task
from tests.celery_support import wait_for
from tests.factories import make_user
from tests.runs.reruns.test_workers import agent, batch_done, broker, fleet, start_worker, stop  # noqa: F401


class Sent:
    def __init__(self, monkeypatch):
        self.items, self.fanouts = [], []
        monkeypatch.setattr(
            rerun_item_task, "apply_async", lambda args, task_id=None, **kw: self.items.append((args[0], task_id))
        )
        monkeypatch.setattr(rerun_items_fanout_task, "apply_async", lambda args, **kw: self.fanouts.append(args[0]))


def test_a_small_selection_sends_one_task_per_item_with_its_known_id(monkeypatch):
    sent = Sent(monkeypatch)
    rerun_items_enqueue(items=[(1, 0), (2, 3)])
    assert sent.items == [(1, task_id_for(1, 0)), (2, task_id_for(2, 3))]
    assert sent.fanouts == []


def test_a_large_selection_sends_a_handful_of_fan_out_chunks_that_cover_every_item_once(monkeypatch):
    sent = Sent(monkeypatch)
    items = [(pk, 0) for pk in range(1, 2 * services.FANOUT_CHUNK + 8)]
    rerun_items_enqueue(items=items)
    assert sent.items == []
    assert len(sent.fanouts) == 3
    assert [tuple(pair) for chunk in sent.fanouts for pair in chunk] == items
    # Each chunk, run by a worker, sends its items' own tasks with their known ids.
    rerun_items_fanout_task.run(sent.fanouts[-1])
    assert sent.items == [(pk, task_id_for(pk, 0)) for pk, _ in items[2 * services.FANOUT_CHUNK :]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
@pytest.mark.services
def test_a_batch_larger_than_a_chunk_is_dispatched_once_per_repository_by_a_real_worker(
    broker,  # noqa: F811
    agent,  # noqa: F811
    monkeypatch,
):
    monkeypatch.setattr(services, "FANOUT_CHUNK", 3)
    script, log = agent
    names = [f"acme/fan-{i}" for i in range(8)]
    migration = fleet(names)
    worker = start_worker(broker, script, log)
    try:
        batch = rerun_batch_create(migration=migration, user=make_user(), repos=names)
        # A chunk delivered twice (a worker died after sending it) sends its tasks again: still one dispatch each.
        first = list(RerunItem.objects.filter(batch=batch).order_by("pk").values_list("pk", flat=True)[:3])
        rerun_items_enqueue(items=[(pk, 0) for pk in first])
        finished = wait_for(lambda: batch_done(batch), timeout=60, interval=0.5)
    finally:
        stop(worker)
    assert finished
    dispatched = Counter(log.read_text().split())
    assert set(dispatched) == set(names)
    assert max(dispatched.values()) == 1
    assert RerunItem.objects.filter(batch=batch, state=RerunState.SUCCEEDED).count() == len(names)


def test_the_embedded_broker_polls_often_enough_for_tasks_to_follow_each_other_quickly(tmp_path):
    from fleetui.celery import app

    with app.connection_for_write(f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}") as connection:
        transport = connection.transport
    assert type(transport).__name__ == "SQLiteTransport"
    assert transport.polling_interval <= 0.1
