"""Drafting one nudge per team and sending each exactly once, with the real Slack client against the fake."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from notifications.nudges.drafts import NudgeNotSendable, nudge_drafts_create
from notifications.nudges.models import Nudge, TeamSnooze
from notifications.nudges.sending import nudge_send
from notifications.slack.client import SlackClient
from notifications.slack.models import SlackChannel, TeamChannel
from runs.demo.fake_slack import FakeClock
from runs.fleet.models import AuditEvent, Outcome, PullRequest
from tests.factories import make_attempt, make_migration, make_repo, make_team, make_user
from tests.notifications.nudges.ready import make_ready_pr

pytestmark = pytest.mark.django_db


def client_for(fake) -> SlackClient:
    clock = FakeClock()
    return SlackClient(fake.token, base_url=fake.url, timeout=5, min_intervals={}, clock=clock.now, sleep=clock.sleep)


def team_with_channel(fake, slug: str, *, private: bool = False, member: bool = True):
    team = make_team(slug, slug.title())
    cid = fake.add_channel(f"team-{slug}", is_private=private, is_member=member)
    channel = SlackChannel.objects.create(channel_id=cid, name=f"team-{slug}", is_private=private, is_member=member)
    TeamChannel.objects.create(team=team, channel=channel, source=TeamChannel.Source.MATCHED, score=1.0)
    return team, channel


def open_pr(migration, full_name: str, team, **fields) -> PullRequest:
    attempt = make_attempt(migration, make_repo(full_name, team=team), outcome=Outcome.SUCCEEDED)
    return make_ready_pr(attempt, **fields)


@pytest.fixture
def owner():
    return make_user(is_superuser=True)


def test_it_drafts_one_nudge_per_team_with_that_teams_prs(fake_slack, owner):
    migration = make_migration("java-21", "Java 21")
    payments, pay_channel = team_with_channel(fake_slack, "payments")
    checkout, _ = team_with_channel(fake_slack, "checkout")
    open_pr(migration, "acme/api", payments, checks="success")
    open_pr(migration, "acme/web", payments)
    open_pr(migration, "acme/cart", checkout)

    result = nudge_drafts_create(migration=migration, user=owner)

    assert [n.team.slug for n in result.drafts] == ["checkout", "payments"]
    pay = next(n for n in result.drafts if n.team == payments)
    assert pay.channel == pay_channel
    assert sorted(line["repo"] for line in pay.lines) == ["acme/api", "acme/web"]
    assert pay.pull_requests.count() == 2
    assert "Java 21" in pay.blocks[0]["text"]["text"]
    assert AuditEvent.objects.filter(verb="nudge.drafted", migration=migration).exists()


def test_unowned_repositories_get_no_draft_and_are_reported(owner):
    migration = make_migration()
    open_pr(migration, "acme/orphan", None)

    result = nudge_drafts_create(migration=migration, user=owner)

    assert result.drafts == [] and result.unowned == ["acme/orphan"]


def test_failing_repositories_without_a_pr_are_named_in_a_draft_that_lists_prs(fake_slack, owner):
    migration = make_migration()
    team, _ = team_with_channel(fake_slack, "search")
    make_attempt(migration, make_repo("acme/search-api", team=team), outcome=Outcome.VERIFY_FAILED)
    open_pr(migration, "acme/search-web", team)

    (draft,) = nudge_drafts_create(migration=migration, user=owner).drafts

    assert {"kind": "failing", "repo": "acme/search-api"} in draft.lines
    assert "acme/search-api" in draft.text


def test_a_team_with_only_failing_repositories_gets_no_draft_and_is_reported(fake_slack, owner):
    migration = make_migration()
    team, _ = team_with_channel(fake_slack, "search")
    make_attempt(migration, make_repo("acme/search-api", team=team), outcome=Outcome.VERIFY_FAILED)

    result = nudge_drafts_create(migration=migration, user=owner)

    assert result.drafts == [] and not Nudge.objects.exists()
    assert [(t.team, t.failing, t.left_out_prs) for t in result.without_draft] == [(team, 1, 0)]


def test_a_snoozed_team_gets_no_draft(fake_slack, owner):
    migration = make_migration()
    team, _ = team_with_channel(fake_slack, "payments")
    open_pr(migration, "acme/api", team)
    until = timezone.now() + timedelta(days=3)
    TeamSnooze.objects.create(team=team, migration=migration, until=until)

    result = nudge_drafts_create(migration=migration, user=owner)

    assert result.drafts == []
    assert result.snoozed == [(team, until)]


def test_a_selection_limits_the_drafts_to_the_chosen_repositories(fake_slack, owner):
    migration = make_migration()
    payments, _ = team_with_channel(fake_slack, "payments")
    checkout, _ = team_with_channel(fake_slack, "checkout")
    open_pr(migration, "acme/api", payments)
    open_pr(migration, "acme/cart", checkout)

    result = nudge_drafts_create(migration=migration, user=owner, repo_names=["acme/cart"])

    assert [n.team for n in result.drafts] == [checkout]


def test_sending_posts_once_and_records_ts_and_permalink(fake_slack, owner):
    migration = make_migration()
    team, channel = team_with_channel(fake_slack, "payments")
    open_pr(migration, "acme/api", team)
    (draft,) = nudge_drafts_create(migration=migration, user=owner).drafts

    sent = nudge_send(nudge_id=draft.pk, user=owner, client=client_for(fake_slack))
    with pytest.raises(NudgeNotSendable):
        nudge_send(nudge_id=draft.pk, user=owner, client=client_for(fake_slack))

    assert len(fake_slack.posts) == 1
    assert fake_slack.posts[0]["channel"] == channel.channel_id
    assert sent.status == Nudge.Status.SENT and sent.slack_ts == fake_slack.posts[0]["ts"]
    assert sent.permalink.startswith("https://") and sent.sent_by == owner
    assert AuditEvent.objects.filter(verb="nudge.send", target_id=str(draft.pk)).count() == 1


def test_a_public_channel_is_joined_before_posting(fake_slack, owner):
    migration = make_migration()
    team, channel = team_with_channel(fake_slack, "payments", member=False)
    open_pr(migration, "acme/api", team)
    (draft,) = nudge_drafts_create(migration=migration, user=owner).drafts

    sent = nudge_send(nudge_id=draft.pk, user=owner, client=client_for(fake_slack))

    assert sent.status == Nudge.Status.SENT
    methods = [name for name, _ in fake_slack.calls if name in {"conversations.join", "chat.postMessage"}]
    assert methods == ["conversations.join", "chat.postMessage"]
    channel.refresh_from_db()
    assert channel.is_member


def test_a_private_channel_the_bot_is_not_in_is_reported_on_the_draft(fake_slack, owner):
    migration = make_migration()
    team, _ = team_with_channel(fake_slack, "risk", private=True, member=False)
    open_pr(migration, "acme/fraud", team)
    (draft,) = nudge_drafts_create(migration=migration, user=owner).drafts

    failed = nudge_send(nudge_id=draft.pk, user=owner, client=client_for(fake_slack))

    assert failed.status == Nudge.Status.FAILED
    assert "not_in_channel" in failed.error and "private" in failed.error
    assert fake_slack.posts == []


def test_slacks_not_in_channel_answer_is_reported_too(fake_slack, owner):
    migration = make_migration()
    team, channel = team_with_channel(fake_slack, "risk", private=True, member=True)
    fake_slack.channels[channel.channel_id]["is_member"] = False  # removed from the channel since the last sync
    open_pr(migration, "acme/fraud", team)
    (draft,) = nudge_drafts_create(migration=migration, user=owner).drafts

    failed = nudge_send(nudge_id=draft.pk, user=owner, client=client_for(fake_slack))

    assert failed.status == Nudge.Status.FAILED and "not_in_channel" in failed.error


def test_a_timeout_after_the_request_marks_the_nudge_failed_without_retrying(fake_slack, owner):
    migration = make_migration()
    team, _ = team_with_channel(fake_slack, "payments")
    open_pr(migration, "acme/api", team)
    (draft,) = nudge_drafts_create(migration=migration, user=owner).drafts
    fake_slack.script("chat.postMessage", delay=1.5)
    clock = FakeClock()
    client = SlackClient(
        fake_slack.token, base_url=fake_slack.url, timeout=0.5, min_intervals={}, clock=clock.now, sleep=clock.sleep
    )

    failed = nudge_send(nudge_id=draft.pk, user=owner, client=client)

    assert failed.status == Nudge.Status.FAILED
    assert "may or may not have been posted" in failed.error
    assert len(fake_slack.calls_of("chat.postMessage")) == 1


def test_a_follow_up_goes_into_the_first_messages_thread_and_updates_it(fake_slack, owner):
    migration = make_migration()
    team, _ = team_with_channel(fake_slack, "payments")
    pr = open_pr(migration, "acme/api", team, review="review_required")
    other = open_pr(migration, "acme/web", team)
    (first,) = nudge_drafts_create(migration=migration, user=owner).drafts
    first = nudge_send(nudge_id=first.pk, user=owner, client=client_for(fake_slack))
    PullRequest.objects.filter(pk=pr.pk).update(state=PullRequest.State.MERGED)

    (follow,) = nudge_drafts_create(migration=migration, user=owner).drafts
    follow = nudge_send(nudge_id=follow.pk, user=owner, client=client_for(fake_slack))

    assert [line["repo"] for line in follow.lines] == [other.repository.full_name]
    assert follow.thread_ts == first.slack_ts
    assert fake_slack.posts[1]["thread_ts"] == first.slack_ts
    assert len(fake_slack.updates) == 1 and fake_slack.updates[0]["ts"] == first.slack_ts
    assert "merged" in str(fake_slack.updates[0]["blocks"])


@pytest.mark.django_db(transaction=True)
def test_two_owners_sending_the_same_draft_at_once_post_once(fake_slack):
    owner_a, owner_b = make_user(is_superuser=True), make_user(is_superuser=True)
    migration = make_migration()
    team, _ = team_with_channel(fake_slack, "payments")
    open_pr(migration, "acme/api", team)
    (draft,) = nudge_drafts_create(migration=migration, user=owner_a).drafts
    fake_slack.script("chat.postMessage", delay=0.3)  # the first send is still in flight when the second comes
    barrier = threading.Barrier(2)
    outcomes = []

    def press(user):
        barrier.wait()
        try:
            nudge_send(nudge_id=draft.pk, user=user, client=client_for(fake_slack))
            outcomes.append("sent")
        except NudgeNotSendable:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(u,)) for u in (owner_a, owner_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["refused", "sent"]
    assert len(fake_slack.posts) == 1
    assert Nudge.objects.get(pk=draft.pk).status == Nudge.Status.SENT


def test_a_redelivered_send_task_does_not_post_again(fake_slack, owner, settings):
    from notifications.nudges.sending import nudge_deliver, nudge_send_claim

    settings.SLACK_API_URL, settings.SLACK_BOT_TOKEN = fake_slack.url, fake_slack.token
    migration = make_migration()
    team, _ = team_with_channel(fake_slack, "payments")
    open_pr(migration, "acme/api", team)
    (draft,) = nudge_drafts_create(migration=migration, user=owner).drafts
    assert nudge_send_claim(nudge_id=draft.pk, user=owner)

    nudge_deliver(nudge_id=draft.pk, client=client_for(fake_slack))
    again = nudge_deliver(nudge_id=draft.pk, client=client_for(fake_slack))

    assert again.status == Nudge.Status.SENT
    assert len(fake_slack.posts) == 1
