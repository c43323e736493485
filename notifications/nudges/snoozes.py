"""Team snoozes: no nudges for a team (for one migration or all) until a date."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from notifications.nudges.models import TeamSnooze
from runs.fleet.audit import audit_event_record
from runs.fleet.models import Migration, Team


def active_snoozes(*, migration: Migration, now: datetime | None = None) -> dict[int, datetime]:
    """Team id -> latest snooze end for snoozes covering this migration (or every migration)."""
    now = now or timezone.now()
    snoozes = TeamSnooze.objects.filter(until__gt=now).filter(Q(migration__isnull=True) | Q(migration=migration))
    ends: dict[int, datetime] = {}
    for snooze in snoozes:
        ends[snooze.team_id] = max(ends.get(snooze.team_id, snooze.until), snooze.until)
    return ends


def team_snooze(*, team: Team, until: datetime, user, migration: Migration | None = None, reason: str = ""):
    """Stop nudges to a team (for one migration or all) until a date."""

    snooze = TeamSnooze.objects.create(
        team=team, migration=migration, until=until, reason=reason[:500], created_by=user
    )
    audit_event_record(
        actor=user, verb="team.snoozed", target=team, migration=migration, data={"until": until.isoformat()}
    )
    return snooze
