"""Read-side queries of the notifications app: the unowned queue, the directory, drafts and history."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from notifications.models import DirectorySyncRun, Nudge, SlackChannel, TeamChannel
from runs.models import Migration, Repository, Team


def repositories_without_team() -> QuerySet[Repository]:
    """Repositories no source could give an owner, with the resolver's explanation."""
    return Repository.objects.filter(team__isnull=True).select_related("ownership").order_by("full_name")


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


def nudge_list(*, migration: Migration | None = None, team: Team | None = None, statuses=None) -> QuerySet[Nudge]:
    """Nudges newest first, with what the pages and the API show."""
    nudges = Nudge.objects.select_related("migration", "team", "channel", "created_by", "sent_by")
    if migration is not None:
        nudges = nudges.filter(migration=migration)
    if team is not None:
        nudges = nudges.filter(team=team)
    if statuses:
        nudges = nudges.filter(status__in=statuses)
    return nudges


def nudge_drafts(*, migration: Migration) -> QuerySet[Nudge]:
    """The migration's drafts and the sends still in flight or failed, for the drafts page."""
    return nudge_list(migration=migration).filter(
        Q(status__in=[Nudge.Status.DRAFT, Nudge.Status.SENDING, Nudge.Status.FAILED])
    )


def nudge_history(*, migration: Migration | None = None, team: Team | None = None) -> QuerySet[Nudge]:
    """What was sent (or failed), per team and migration."""
    return nudge_list(migration=migration, team=team, statuses=[Nudge.Status.SENT, Nudge.Status.FAILED])
