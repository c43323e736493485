"""Read-only queries on nudges: drafts, lists and history."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from notifications.nudges.models import Nudge
from runs.fleet.models import Migration, Team


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
