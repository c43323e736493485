"""Read-only queries on the Slack directory and team channels."""

from __future__ import annotations

from django.db.models import QuerySet

from notifications.slack.models import DirectorySyncRun, SlackChannel, TeamChannel
from runs.fleet.models import Team


def teams_without_channel() -> list[TeamChannel]:
    """Teams with no confident channel: unmatched, or matched to a channel since archived or gone."""
    decided = {tc.team_id: tc for tc in TeamChannel.objects.select_related("channel", "team")}
    rows = []
    for team in Team.objects.order_by("slug"):
        tc = decided.get(team.pk)
        if tc is None:
            rows.append(TeamChannel(team=team, detail="no directory sync has matched it yet"))
        elif tc.channel is None or tc.channel.is_archived or not tc.channel.seen_in_sync:
            rows.append(tc)
    return rows


def team_channel_rows() -> QuerySet[TeamChannel]:
    return TeamChannel.objects.select_related("team", "channel", "confirmed_by").order_by("team__slug")


def slack_channel_list(*, include_gone: bool = False) -> QuerySet[SlackChannel]:
    channels = SlackChannel.objects.all()
    return channels if include_gone else channels.filter(seen_in_sync=True)


def directory_sync_runs(*, limit: int = 20) -> list[DirectorySyncRun]:
    return list(DirectorySyncRun.objects.select_related("requested_by")[:limit])
