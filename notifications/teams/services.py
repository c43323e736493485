"""Writes of team inboxes: a team's settings (audited), and the daily round of digests and escalations."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from fleetui.common.roles import real_user
from notifications.nudges.models import TeamSnooze
from notifications.slack.models import SlackChannel
from notifications.teams.models import TeamInboxSettings
from runs.fleet.audit import audit_event_record
from runs.fleet.models import Team

logger = logging.getLogger(__name__)

SETTINGS_FIELDS = ("digest_enabled", "stale_days", "escalation_channel")


def _snapshot(row: TeamInboxSettings) -> dict:
    channel = row.escalation_channel
    return {
        "digest_enabled": row.digest_enabled,
        "stale_days": row.stale_days,
        "escalation_channel": f"#{channel.name} ({channel.channel_id})" if channel else None,
    }


def team_settings_update(
    *, team: Team, user, digest_enabled: bool, stale_days: int | None, escalation_channel: SlackChannel | None
) -> TeamInboxSettings:
    """Save the team's inbox settings and record what changed (nothing is recorded when nothing did)."""
    with transaction.atomic():
        row, _ = TeamInboxSettings.objects.select_for_update().get_or_create(team=team)
        before = _snapshot(row)
        row.digest_enabled, row.stale_days, row.escalation_channel = digest_enabled, stale_days, escalation_channel
        row.updated_by = real_user(user)
        row.save()
        after = _snapshot(row)
        if before != after:
            audit_event_record(
                actor=user,
                verb="team.inbox_settings_changed",
                target=team,
                data={"team": team.slug, "before": before, "after": after},
            )
    return row


def team_inbox_round() -> dict[str, int]:
    """For every team with the digest on: the day's digest (or a follow-up in its thread); and for every team
    with an escalation channel: its stale pull requests not yet escalated in their stale period."""
    from notifications.teams.digests import team_digest_request
    from notifications.teams.escalations import team_escalation_request
    from notifications.teams.recovery import team_sends_recover

    recovered = team_sends_recover()
    if any(recovered.values()):
        logger.warning("team sends taken back from gone workers: %s", recovered)

    counts = {"digests": 0, "followups": 0, "escalations": 0}
    # A team snoozed for every migration hears nothing from the round until its snooze ends.
    snoozed = TeamSnooze.objects.filter(migration__isnull=True, until__gt=timezone.now()).values("team_id")
    rows = TeamInboxSettings.objects.select_related("team", "escalation_channel").exclude(team_id__in=snoozed)
    for row in rows.filter(digest_enabled=True):
        # A failed digest waits for a person: it may have reached Slack.
        claim = team_digest_request(team=row.team, retry_failed=False)
        if claim.kind in ("digest", "followup"):
            counts[f"{claim.kind}s"] += 1
    for row in rows.filter(escalation_channel__isnull=False):
        if team_escalation_request(team=row.team, team_settings=row) is not None:
            counts["escalations"] += 1
    return counts
