"""Setting a team's channel moves its open drafts there; nudges already on their way keep theirs."""

import pytest
from django.urls import reverse

from fleetui.common.roles import MIGRATION_OWNER
from notifications.nudges.drafts import nudge_drafts_create
from notifications.nudges.models import Nudge
from notifications.slack.directory import team_channel_choose, team_channels_refresh
from notifications.slack.models import SlackChannel
from runs.fleet.models import Outcome
from tests.factories import make_attempt, make_migration, make_repo, make_team, make_user
from tests.notifications.nudges.ready import make_ready_pr

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return make_user(role=MIGRATION_OWNER)


def draft_without_channel(slug: str = "growth", repo: str = "acme/signup"):
    migration = make_migration("java-21", "Java 21")
    team = make_team(slug, slug.title())
    make_ready_pr(make_attempt(migration, make_repo(repo, team=team), outcome=Outcome.SUCCEEDED))
    result = nudge_drafts_create(migration=migration, user=None)
    (draft,) = [n for n in result.drafts if n.team == team]
    assert draft.channel is None and team in result.no_channel
    return migration, team, draft


def nudge_in(migration, team, status, channel=None) -> Nudge:
    return Nudge.objects.create(migration=migration, team=team, status=status, channel=channel, text="x")


def test_a_draft_made_before_the_channel_was_chosen_goes_to_the_chosen_channel(owner):
    _, team, draft = draft_without_channel()
    channel = SlackChannel.objects.create(channel_id="C0GROW", name="growth")

    team_channel_choose(team=team, channel=channel, user=owner)

    draft.refresh_from_db()
    assert draft.channel == channel


def test_a_channel_found_by_a_later_directory_refresh_reaches_the_open_draft():
    _, team, draft = draft_without_channel()
    channel = SlackChannel.objects.create(channel_id="C0GROW", name="team-growth")

    team_channels_refresh(catalog=None, threshold=0.7)

    draft.refresh_from_db()
    assert draft.channel == channel


def test_sent_sending_failed_and_cancelled_nudges_keep_the_channel_they_had(owner):
    migration, team, draft = draft_without_channel()
    old = SlackChannel.objects.create(channel_id="C0OLD", name="growth-old")
    others = {
        status: nudge_in(migration, team, status, channel=old)
        for status in (Nudge.Status.SENT, Nudge.Status.SENDING, Nudge.Status.FAILED, Nudge.Status.CANCELLED)
    }
    unsent_without = nudge_in(migration, team, Nudge.Status.SENT)
    new = SlackChannel.objects.create(channel_id="C0NEW", name="growth")

    team_channel_choose(team=team, channel=new, user=owner)

    assert {status: Nudge.objects.get(pk=n.pk).channel for status, n in others.items()} == dict.fromkeys(others, old)
    assert Nudge.objects.get(pk=unsent_without.pk).channel is None
    draft.refresh_from_db()
    assert draft.channel == new


def test_choosing_another_channel_moves_drafts_that_already_had_one_and_leaves_other_teams_alone(owner):
    migration, team, draft = draft_without_channel()
    other_team = make_team("checkout", "Checkout")
    first = SlackChannel.objects.create(channel_id="C0FIRST", name="growth-first")
    second = SlackChannel.objects.create(channel_id="C0SECOND", name="growth")
    other_draft = nudge_in(migration, other_team, Nudge.Status.DRAFT, channel=first)
    team_channel_choose(team=team, channel=first, user=owner)

    team_channel_choose(team=team, channel=second, user=owner)

    draft.refresh_from_db()
    assert draft.channel == second
    assert Nudge.objects.get(pk=other_draft.pk).channel == first


def test_choosing_a_channel_on_the_unowned_queue_updates_the_open_draft(client, owner):
    migration, team, draft = draft_without_channel()
    SlackChannel.objects.create(channel_id="C0GROW", name="growth-squad-room")
    client.force_login(owner)

    client.post(reverse("notifications:team-channel-set", args=[team.slug]), {"other_channel": "C0GROW"})

    draft.refresh_from_db()
    assert draft.channel.channel_id == "C0GROW"
