"""A nudge send whose worker is gone is taken back once: delivered again when Slack cannot have it, else shown
as needing a person; a send whose worker still beats is left alone."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from fleetui.common.models import heartbeat_timeout
from notifications.nudges.drafts import nudge_cancel, nudge_drafts_create
from notifications.nudges.models import Nudge
from notifications.nudges.recovery import OUTCOME_UNKNOWN, nudge_deliveries_recover
from notifications.nudges.sending import nudge_deliver, nudge_send_claim, nudge_send_enqueue
from notifications.slack.client import SlackClient
from notifications.slack.models import SlackChannel, TeamChannel
from runs.demo.fake_slack import FakeClock
from runs.fleet.models import Outcome
from tests.celery_support import wait_for
from tests.factories import make_attempt, make_migration, make_repo, make_team, make_user
from tests.notifications.nudges.ready import make_ready_pr

pytestmark = pytest.mark.django_db


def in_a_worker_thread(function, **kwargs):
    """Run `function` as a worker would, closing this thread's database connection afterwards."""
    try:
        function(**kwargs)
    finally:
        connection.close()


class WorkerKilled(BaseException):
    """Stands for the worker process dying: nothing after it runs, no handler sees it."""


def client_for(fake) -> SlackClient:
    clock = FakeClock()
    return SlackClient(fake.token, base_url=fake.url, timeout=10, min_intervals={}, clock=clock.now, sleep=clock.sleep)


def draft_for(fake, owner) -> Nudge:
    migration = make_migration()
    team = make_team("payments", "Payments")
    cid = fake.add_channel("team-payments", is_member=True)
    channel = SlackChannel.objects.create(channel_id=cid, name="team-payments", is_member=True)
    TeamChannel.objects.create(team=team, channel=channel, source=TeamChannel.Source.MATCHED, score=1.0)
    make_ready_pr(make_attempt(migration, make_repo("acme/api", team=team), outcome=Outcome.SUCCEEDED))
    (draft,) = nudge_drafts_create(migration=migration, user=owner).drafts
    return draft


def time_passes(pk: int) -> None:
    """The heartbeat timeout passes: the last beat and the queueing time are now that much older."""
    gone = timezone.now() - timedelta(seconds=2 * heartbeat_timeout())
    Nudge.objects.filter(pk=pk, heartbeat_at__isnull=False).update(heartbeat_at=gone)
    Nudge.objects.filter(pk=pk, queued_at__isnull=False).update(queued_at=gone)


def dies(client: SlackClient, method: str, *, after_call: bool) -> SlackClient:
    """The client's worker dies in `method`, before or after the request reached Slack."""
    real = getattr(client, method)

    def call(*args, **kwargs):
        if after_call:
            real(*args, **kwargs)
        raise WorkerKilled(method)

    setattr(client, method, call)
    return client


@pytest.fixture
def owner():
    return make_user(is_superuser=True)


def test_a_send_whose_worker_died_while_posting_needs_a_person_and_may_be_retried_or_cancelled(
    fake_slack, owner, client
):
    draft = draft_for(fake_slack, owner)
    assert nudge_send_claim(nudge_id=draft.pk, user=owner)
    with pytest.raises(WorkerKilled):
        nudge_deliver(nudge_id=draft.pk, client=dies(client_for(fake_slack), "post_message", after_call=True))
    assert Nudge.objects.get(pk=draft.pk).status == Nudge.Status.SENDING
    time_passes(draft.pk)

    recovered = nudge_deliveries_recover()

    nudge = Nudge.objects.get(pk=draft.pk)
    assert recovered.given_up == [draft.pk] and not recovered.retried
    assert nudge.status == Nudge.Status.FAILED and nudge.error == OUTCOME_UNKNOWN
    assert len(fake_slack.posts) == 1, "nothing is posted again without a person"
    client.force_login(owner)
    page = client.get(reverse("notifications:nudge-drafts", args=[nudge.migration.slug])).content.decode()
    assert "may or may not be in the channel" in page
    assert (
        f'name="nudges" value="{nudge.pk}"' in page and reverse("notifications:nudge-cancel", args=[nudge.pk]) in page
    )
    assert nudge_cancel(nudge=nudge, user=owner)


def test_two_watchdog_runs_take_a_stale_send_back_once(fake_slack, owner, django_capture_on_commit_callbacks):
    draft = draft_for(fake_slack, owner)
    SlackChannel.objects.update(is_member=False)
    assert nudge_send_claim(nudge_id=draft.pk, user=owner)
    with pytest.raises(WorkerKilled):
        nudge_deliver(nudge_id=draft.pk, client=dies(client_for(fake_slack), "join_channel", after_call=True))
    time_passes(draft.pk)

    with django_capture_on_commit_callbacks() as queued:
        first = nudge_deliveries_recover()
        second = nudge_deliveries_recover()

    assert first.retried == [draft.pk] and len(second) == 0 and len(queued) == 1
    assert Nudge.objects.get(pk=draft.pk).recoveries == 1


def test_a_send_whose_worker_died_before_the_post_is_delivered_again_and_posted_once(
    fake_slack, owner, django_capture_on_commit_callbacks
):
    draft = draft_for(fake_slack, owner)
    SlackChannel.objects.update(is_member=False)  # the worker joins the channel first, and dies there
    assert nudge_send_claim(nudge_id=draft.pk, user=owner)
    with pytest.raises(WorkerKilled):
        nudge_deliver(nudge_id=draft.pk, client=dies(client_for(fake_slack), "join_channel", after_call=True))

    time_passes(draft.pk)
    with django_capture_on_commit_callbacks() as queued:
        recovered = nudge_deliveries_recover()
    sent = nudge_deliver(nudge_id=draft.pk, client=client_for(fake_slack))

    assert recovered.retried == [draft.pk] and len(queued) == 1
    assert sent.status == Nudge.Status.SENT and len(fake_slack.posts) == 1


def test_a_queued_send_whose_task_was_lost_is_queued_again(fake_slack, owner, django_capture_on_commit_callbacks):
    draft = draft_for(fake_slack, owner)
    with django_capture_on_commit_callbacks() as lost:
        nudge_send_enqueue(nudges=[draft], user=owner)
    assert len(lost) == 1  # the message a broker lost with its worker; never run

    with django_capture_on_commit_callbacks() as queued:
        assert not nudge_deliveries_recover(), "a send queued just now is not lost"
        time_passes(draft.pk)
        recovered = nudge_deliveries_recover()

    assert recovered.retried == [draft.pk] and len(queued) == 1
    assert Nudge.objects.get(pk=draft.pk).status == Nudge.Status.SENDING


def test_a_send_held_by_a_fresh_claim_is_never_recovered(fake_slack, owner):
    draft = draft_for(fake_slack, owner)
    assert nudge_send_claim(nudge_id=draft.pk, user=owner)
    with pytest.raises(WorkerKilled):
        nudge_deliver(nudge_id=draft.pk, client=dies(client_for(fake_slack), "post_message", after_call=True))

    assert not nudge_deliveries_recover()
    assert Nudge.objects.get(pk=draft.pk).status == Nudge.Status.SENDING


@pytest.mark.django_db(transaction=True)
def test_a_send_whose_worker_still_beats_is_left_alone_however_slow_slack_is(fake_slack, owner, settings):
    settings.FLEETUI_HEARTBEAT_TIMEOUT = 2.0
    draft = draft_for(fake_slack, owner)
    fake_slack.script("chat.postMessage", delay=6.0)  # Slack answers after three heartbeat timeouts
    assert nudge_send_claim(nudge_id=draft.pk, user=owner)
    worker = threading.Thread(
        target=in_a_worker_thread,
        args=(nudge_deliver,),
        kwargs={"nudge_id": draft.pk, "client": client_for(fake_slack)},
    )
    worker.start()
    try:
        assert wait_for(lambda: fake_slack.calls_of("chat.postMessage"), timeout=10)
        time.sleep(3.0)  # longer than the timeout: only the heartbeat says the worker is alive
        recovered = nudge_deliveries_recover()
        status_meanwhile = Nudge.objects.get(pk=draft.pk).status
    finally:
        worker.join(timeout=20)

    assert not recovered and status_meanwhile == Nudge.Status.SENDING
    assert Nudge.objects.get(pk=draft.pk).status == Nudge.Status.SENT and len(fake_slack.posts) == 1
