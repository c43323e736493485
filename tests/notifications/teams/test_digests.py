"""The team digest: one message per team and day at the fake Slack, follow-ups in its thread, escalations once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from fleetui.common.roles import MIGRATION_OWNER
from notifications.teams import tasks
from notifications.teams.digests import team_digest_claim, team_digest_deliver, team_digest_followup_deliver
from notifications.teams.escalations import team_escalation_claim, team_escalation_deliver
from notifications.teams.models import Delivery, EscalatedPullRequest, TeamDigest, TeamInboxSettings
from notifications.teams.services import team_inbox_round
from runs.fleet.models import AuditEvent, PullRequest
from tests.factories import make_migration, make_user
from tests.notifications.teams.helpers import client_for, idle_pr, slack_channel, team_with_channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(fake_slack):
    team, channel = team_with_channel(fake_slack, "payments")
    java, node = make_migration("java-21", "Java 21"), make_migration("node-22", "Node <22>")
    prs = [
        idle_pr(java, "acme/pay-api", team, idle_days=1, checks="pending"),
        idle_pr(node, "acme/<pay>-web", team, idle_days=9, opened_days=11),
    ]
    return team, channel, prs


def send_digest(team, fake_slack, user=None):
    claim = team_digest_claim(team=team, user=user)
    if claim.kind == "digest":
        team_digest_deliver(digest_id=claim.digest_id, client=client_for(fake_slack))
    elif claim.kind == "followup":
        team_digest_followup_deliver(followup_id=claim.followup_id, client=client_for(fake_slack))
    return claim


def test_the_digest_lists_every_open_pr_of_the_team_across_migrations_escaped(fake_slack, inbox):
    team, channel, _ = inbox

    send_digest(team, fake_slack)

    (post,) = fake_slack.posts
    assert post["channel"] == channel.channel_id and post["thread_ts"] is None
    assert "2 open agent pull requests across 2 migrations" in post["text"] and "1 of them" in post["text"]
    listed = "\n".join(b["text"]["text"] for b in post["blocks"] if b["type"] == "section")
    assert "acme/&lt;pay&gt;-web#" in listed and "Node &lt;22&gt;" in listed and "<pay>" not in listed
    assert ":zzz: _stale_" in listed
    digest = TeamDigest.objects.get(team=team)
    assert digest.status == Delivery.SENT and digest.slack_ts == post["ts"] and len(digest.lines) == 2


def test_a_double_send_posts_one_digest_a_day(fake_slack, inbox):
    team, _, _ = inbox

    first, second = send_digest(team, fake_slack), send_digest(team, fake_slack)

    assert first.kind == "digest" and second.kind == "followup"
    assert len(fake_slack.posts) == 1  # nothing changed: the follow-up had nothing to say
    assert TeamDigest.objects.filter(team=team).count() == 1


def test_a_claimed_digest_is_posted_once_even_when_its_task_runs_twice(fake_slack, inbox):
    team, _, _ = inbox
    claim = team_digest_claim(team=team)
    assert team_digest_claim(team=team).kind == "busy"  # the second click while the first is being sent

    for _ in range(2):
        team_digest_deliver(digest_id=claim.digest_id, client=client_for(fake_slack))

    assert len(fake_slack.posts) == 1


def test_the_days_later_changes_go_in_the_digests_thread(fake_slack, inbox):
    team, _, (api, web) = inbox
    send_digest(team, fake_slack)
    PullRequest.objects.filter(pk=api.pk).update(checks="failure", updated_at=timezone.now())
    PullRequest.objects.filter(pk=web.pk).update(state=PullRequest.State.MERGED)

    claim = send_digest(team, fake_slack)

    assert claim.kind == "followup"
    digest, reply = TeamDigest.objects.get(team=team), fake_slack.posts[1]
    assert reply["thread_ts"] == digest.slack_ts and len(fake_slack.posts) == 2
    assert "acme/pay-api#" in reply["text"] and ":x: failing" in reply["text"]
    assert "was merged" in reply["text"]
    # The next follow-up compares with what this one said: nothing new, nothing posted.
    send_digest(team, fake_slack)
    assert len(fake_slack.posts) == 2


def test_a_team_without_open_prs_gets_no_digest_and_may_get_one_later_that_day(fake_slack, inbox):
    team, _, prs = inbox
    PullRequest.objects.filter(pk__in=[pr.pk for pr in prs]).update(state=PullRequest.State.CLOSED)

    send_digest(team, fake_slack)
    assert fake_slack.posts == [] and TeamDigest.objects.get(team=team).status == Delivery.SKIPPED

    PullRequest.objects.filter(pk=prs[0].pk).update(state=PullRequest.State.OPEN)
    assert send_digest(team, fake_slack).kind == "digest" and len(fake_slack.posts) == 1


def test_the_digest_button_queues_one_send_and_is_audited(
    client, fake_slack, inbox, django_capture_on_commit_callbacks
):
    team, _, _ = inbox
    client.force_login(make_user(role=MIGRATION_OWNER))

    with django_capture_on_commit_callbacks() as callbacks:
        client.post("/teams/payments/digest")
        client.post("/teams/payments/digest")

    assert len(callbacks) == 1
    assert TeamDigest.objects.get(team=team).status == Delivery.SENDING
    assert AuditEvent.objects.filter(verb="team.digest_requested").count() == 1


def escalation_settings(fake_slack, team, **fields):
    channel = slack_channel(fake_slack, "payments-escalations")
    return TeamInboxSettings.objects.create(team=team, escalation_channel=channel, **fields)


def test_a_stale_pr_is_escalated_once_per_stale_period(fake_slack, inbox):
    team, _, (api, web) = inbox
    team_settings = escalation_settings(fake_slack, team)

    escalation = team_escalation_claim(team=team, team_settings=team_settings)
    team_escalation_deliver(escalation_id=escalation.pk, client=client_for(fake_slack))
    again = team_escalation_claim(team=team, team_settings=team_settings)

    assert again is None
    (post,) = fake_slack.posts
    assert post["channel"] == team_settings.escalation_channel.channel_id
    assert "acme/&lt;pay&gt;-web#" in "\n".join(b["text"]["text"] for b in post["blocks"] if b["type"] == "section")
    assert list(EscalatedPullRequest.objects.values_list("pull_request_id", flat=True)) == [web.pk]

    # New activity ends the period; once stale again, the pull request may be escalated again.
    PullRequest.objects.filter(pk=web.pk).update(updated_at=timezone.now() - timedelta(days=8))
    assert team_escalation_claim(team=team, team_settings=team_settings) is not None


def test_the_escalate_page_asks_for_confirmation_before_posting(
    client, fake_slack, inbox, django_capture_on_commit_callbacks
):
    team, _, _ = inbox
    escalation_settings(fake_slack, team)
    client.force_login(make_user(role=MIGRATION_OWNER))

    confirm = client.get("/teams/payments/escalate")
    with django_capture_on_commit_callbacks() as callbacks:
        unconfirmed = client.post("/teams/payments/escalate")
        client.post("/teams/payments/escalate", {"confirm": "yes"})
        client.post("/teams/payments/escalate", {"confirm": "yes"})

    assert b"acme/&lt;pay&gt;-web" in confirm.content and b"#payments-escalations" in confirm.content
    assert b"Tick the box" in unconfirmed.content
    assert len(callbacks) == 1 and EscalatedPullRequest.objects.count() == 1


def test_the_daily_round_sends_digests_and_escalations_only_where_the_team_asked(
    fake_slack, inbox, settings, django_capture_on_commit_callbacks, monkeypatch
):
    team, _, _ = inbox
    settings.SLACK_API_URL, settings.SLACK_BOT_TOKEN = fake_slack.url, fake_slack.token
    # The tasks run here, in this process, as a worker would run them.
    for task in (tasks.team_digest_send_task, tasks.team_digest_followup_task, tasks.team_escalation_send_task):
        monkeypatch.setattr(task, "delay", lambda *args, task=task: task.apply(args=args).get())
    escalation_settings(fake_slack, team, digest_enabled=True)

    with django_capture_on_commit_callbacks(execute=True):
        first = team_inbox_round()
    with django_capture_on_commit_callbacks(execute=True):
        second = team_inbox_round()

    assert first == {"digests": 1, "followups": 0, "escalations": 1}
    assert second == {"digests": 0, "followups": 1, "escalations": 0}
    assert len(fake_slack.posts) == 2  # the digest and the escalation; the second round had nothing new
    assert [p["channel"] for p in fake_slack.posts] == [
        team.slack_channel.channel.channel_id,
        team.inbox_settings.escalation_channel.channel_id,
    ]


def test_the_round_leaves_a_team_snoozed_for_every_migration_alone(fake_slack, inbox):
    from notifications.nudges.models import TeamSnooze

    team, _, _ = inbox
    escalation_settings(fake_slack, team, digest_enabled=True)
    TeamSnooze.objects.create(team=team, until=timezone.now() + timedelta(days=2))

    assert team_inbox_round() == {"digests": 0, "followups": 0, "escalations": 0}
    assert not TeamDigest.objects.exists()


def test_the_round_does_not_resend_a_failed_digest_but_a_person_may(fake_slack, inbox):
    team, channel, _ = inbox
    TeamInboxSettings.objects.create(team=team, digest_enabled=True)
    TeamDigest.objects.create(team=team, day=timezone.localdate(), status=Delivery.FAILED, error="timeout")

    assert team_inbox_round()["digests"] == 0
    assert send_digest(team, fake_slack, user=make_user(role=MIGRATION_OWNER)).kind == "digest"
    assert len(fake_slack.posts) == 1 and TeamDigest.objects.get(team=team).status == Delivery.SENT


def test_a_send_whose_worker_stopped_fails_for_a_person_and_a_lost_one_is_queued_again(
    fake_slack, inbox, monkeypatch, django_capture_on_commit_callbacks
):
    team, _, _ = inbox
    queued = []
    monkeypatch.setattr(tasks.team_digest_send_task, "delay", lambda pk: queued.append(pk))
    long_ago = timezone.now() - timedelta(hours=3)
    held = TeamDigest.objects.create(team=team, day=timezone.localdate(), delivery_started_at=long_ago)
    lost = TeamDigest.objects.create(team=team, day=timezone.localdate() - timedelta(days=1))
    TeamDigest.objects.filter(pk=lost.pk).update(created_at=long_ago)

    with django_capture_on_commit_callbacks(execute=True):
        team_inbox_round()

    held.refresh_from_db()
    assert held.status == Delivery.FAILED and "may have been posted" in held.error
    assert queued == [lost.pk]
