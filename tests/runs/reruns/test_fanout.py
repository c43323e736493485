"""A large rerun batch goes out in chunks: few messages from the request, one dispatch per repository."""

from collections import Counter

import pytest

from runs.reruns import chunks
from runs.reruns.models import RerunItem, RerunState
from runs.reruns.services import rerun_batch_create, rerun_items_enqueue, task_id_for
from runs.reruns.tasks import rerun_item_task, rerun_items_dispatch_task, rerun_items_fanout_task
from tests.celery_support import wait_for
from tests.factories import make_user
from tests.runs.reruns.test_workers import agent, batch_done, broker, fleet, start_worker, stop  # noqa: F401


class Sent:
    def __init__(self, monkeypatch):
        self.items, self.chunks = [], []
        monkeypatch.setattr(
            rerun_item_task, "apply_async", lambda args, task_id=None, **kw: self.items.append((args[0], task_id))
        )
        monkeypatch.setattr(rerun_items_dispatch_task, "apply_async", lambda args, **kw: self.chunks.append(args[0]))


def test_a_small_selection_sends_one_task_per_item_with_its_known_id(monkeypatch):
    sent = Sent(monkeypatch)
    rerun_items_enqueue(items=[(1, 0), (2, 3)])
    assert sent.items == [(1, task_id_for(1, 0)), (2, task_id_for(2, 3))]
    assert sent.chunks == []


def test_a_large_selection_sends_a_handful_of_chunks_that_cover_every_item_once(monkeypatch):
    sent = Sent(monkeypatch)
    count = chunks.DISPATCH_SPREAD * chunks.DISPATCH_CHUNK * 5 + 7
    items = [(pk, 0) for pk in range(1, count + 1)]
    rerun_items_enqueue(items=items)
    assert sent.items == []
    assert len(sent.chunks) == count // chunks.DISPATCH_CHUNK + 1
    assert max(len(chunk) for chunk in sent.chunks) == chunks.DISPATCH_CHUNK
    assert [pk for chunk in sent.chunks for pk in chunk] == [pk for pk, _ in items]


def test_a_selection_is_spread_over_several_chunks_so_several_workers_share_it(monkeypatch):
    sent = Sent(monkeypatch)
    items = [(pk, 0) for pk in range(1, 3 * chunks.DISPATCH_SPREAD + 1)]
    rerun_items_enqueue(items=items)
    assert len(sent.chunks) == chunks.DISPATCH_SPREAD
    assert sorted(pk for chunk in sent.chunks for pk in chunk) == [pk for pk, _ in items]


def test_a_fan_out_message_queued_before_chunks_sends_its_items_in_chunks(monkeypatch):
    sent = Sent(monkeypatch)
    items = [[pk, 0] for pk in range(1, 3 * chunks.DISPATCH_SPREAD + 1)]
    rerun_items_fanout_task.run(items)
    assert sorted(pk for chunk in sent.chunks for pk in chunk) == [pk for pk, _ in items]


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
@pytest.mark.services
def test_a_batch_larger_than_a_chunk_is_dispatched_once_per_repository_by_a_real_worker(
    broker,  # noqa: F811
    agent,  # noqa: F811
    monkeypatch,
):
    monkeypatch.setattr(chunks, "DISPATCH_CHUNK", 3)
    monkeypatch.setattr(chunks, "DISPATCH_SPREAD", 2)
    script, log = agent
    names = [f"acme/fan-{i}" for i in range(8)]
    migration = fleet(names)
    worker = start_worker(broker, script, log)
    try:
        batch = rerun_batch_create(migration=migration, user=make_user(), repos=names)
        # A chunk delivered twice (the watchdog sent it again) dispatches nothing twice.
        first = list(RerunItem.objects.filter(batch=batch).order_by("pk").values_list("pk", flat=True)[:3])
        rerun_items_enqueue(items=[(pk, 0) for pk in first])
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
