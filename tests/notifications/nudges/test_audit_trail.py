"""Every step of a nudge leaves an audit event: drafted (and what was added or left out), edited, cancelled,
queued for sending by whom, and sent or failed."""

import pytest

from notifications.nudges.drafts import nudge_cancel, nudge_draft_update, nudge_drafts_create
from notifications.nudges.sending import nudge_send
from notifications.slack.client import SlackClient
from notifications.slack.models import SlackChannel, TeamChannel
from runs.demo.fake_slack import FakeClock
from runs.fleet.models import AuditEvent, Outcome
from tests.factories import make_attempt, make_migration, make_repo, make_team, make_user
from tests.notifications.nudges.ready import make_ready_pr

pytestmark = pytest.mark.django_db


def setup(fake, *, archived=False):
    migration = make_migration("java-21", "Java 21")
    team = make_team("payments", "Payments")
    cid = fake.add_channel("team-payments", is_member=True)
    channel = SlackChannel.objects.create(channel_id=cid, name="team-payments", is_member=True, is_archived=archived)
    TeamChannel.objects.create(team=team, channel=channel, source="matched", score=1.0)
    pr = make_ready_pr(make_attempt(migration, make_repo("acme/api", team=team), outcome=Outcome.SUCCEEDED))
    return migration, pr


def client_for(fake) -> SlackClient:
    clock = FakeClock()
    return SlackClient(fake.token, base_url=fake.url, timeout=5, min_intervals={}, clock=clock.now, sleep=clock.sleep)


def test_drafting_editing_and_sending_leave_one_event_each(fake_slack):
    owner = make_user("olga", is_superuser=True)
    migration, pr = setup(fake_slack)

    (draft,) = nudge_drafts_create(migration=migration, user=owner).drafts
    nudge_draft_update(nudge=draft, text="Please merge [the PR](https://github.com/acme/api/pull/1) today", user=owner)
    nudge_draft_update(nudge=draft, text="Please merge [the PR](https://github.com/acme/api/pull/1) today", user=owner)
    nudge_send(nudge_id=draft.pk, user=owner, client=client_for(fake_slack))

    events = list(AuditEvent.objects.order_by("id").values_list("verb", "actor_name", "target_id"))
    assert events == [
        ("nudge.drafted", "olga", ""),
        ("nudge.edited", "olga", str(draft.pk)),  # saving the same text again is no edit
        ("nudge.send", "olga", str(draft.pk)),
        ("nudge.sent", "system", str(draft.pk)),
    ]
    sent = AuditEvent.objects.get(verb="nudge.sent")
    assert sent.data["channel"] == "team-payments" and sent.data["pull_requests"] == [pr.pk]
    assert sent.data["slack_ts"] == fake_slack.posts[0]["ts"]


def test_a_failed_send_and_a_cancel_are_in_the_trail(fake_slack):
    owner = make_user("olga", is_superuser=True)
    migration, _ = setup(fake_slack, archived=True)
    (draft,) = nudge_drafts_create(migration=migration, user=owner).drafts

    nudge_send(nudge_id=draft.pk, user=owner, client=client_for(fake_slack))
    nudge_cancel(nudge=draft, user=owner)

    failed = AuditEvent.objects.get(verb="nudge.failed")
    assert "archived" in failed.data["error"] and failed.target_id == str(draft.pk)
    assert AuditEvent.objects.filter(verb="nudge.cancelled", actor_name="olga").count() == 1
