"""Teams, channels and open agent pull requests for the team inbox tests."""

from datetime import timedelta

from django.utils import timezone

from notifications.slack.client import SlackClient
from notifications.slack.models import SlackChannel, TeamChannel
from runs.demo.fake_slack import FakeClock
from runs.fleet.models import Outcome, PullRequest
from tests.factories import make_attempt, make_pull_request, make_repo, make_team


def idle_pr(migration, full_name: str, team, *, idle_days: float = 0, opened_days: float = 0, **fields) -> PullRequest:
    """An open agent pull request opened `opened_days` ago whose last activity was `idle_days` ago."""
    now = timezone.now()
    ended = now - timedelta(days=max(opened_days, idle_days))
    attempt = make_attempt(
        migration,
        make_repo(full_name, team=team),
        outcome=Outcome.SUCCEEDED,
        started_at=ended - timedelta(minutes=10),
        ended_at=ended,
    )
    return make_pull_request(attempt, updated_at=now - timedelta(days=idle_days), **fields)


def client_for(fake) -> SlackClient:
    clock = FakeClock()
    return SlackClient(fake.token, base_url=fake.url, timeout=5, min_intervals={}, clock=clock.now, sleep=clock.sleep)


def slack_channel(fake, name: str, *, member: bool = True) -> SlackChannel:
    cid = fake.add_channel(name, is_member=member) if fake is not None else f"C{name.upper()[:8]}"
    return SlackChannel.objects.create(channel_id=cid, name=name, is_member=member)


def team_with_channel(fake, slug: str):
    team = make_team(slug, slug.title())
    channel = slack_channel(fake, f"team-{slug}")
    TeamChannel.objects.create(team=team, channel=channel, source=TeamChannel.Source.MATCHED, score=1.0)
    return team, channel
