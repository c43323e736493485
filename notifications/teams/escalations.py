"""Escalate a team's stale pull requests to its escalation channel, each once per stale period.

A pull request's stale period starts at its last activity; the (pull request, last activity) row is inserted
before the message is sent, so a second click, a second worker or the next daily round skips it until new
activity starts a new period.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from fleetui.common.roles import real_user
from notifications.slack.client import SlackClient, SlackRateLimitedError
from notifications.teams.messages import escalation_message
from notifications.teams.models import Delivery, EscalatedPullRequest, TeamEscalation, TeamInboxSettings
from notifications.teams.posting import PostFailed, client_or_default, inbox_url, post_to_channel
from notifications.teams.selectors import inbox_line, inbox_rows, team_stale_days, team_stale_prs
from runs.fleet.audit import audit_event_record
from runs.fleet.models import PullRequest, Team


def escalation_candidates(*, team: Team, team_settings: TeamInboxSettings) -> list[PullRequest]:
    """The team's stale pull requests not yet escalated in their current stale period."""
    stale = list(team_stale_prs(team=team, stale_days=team_stale_days(team_settings=team_settings)))
    done = set(
        EscalatedPullRequest.objects.filter(pull_request__in=[pr.pk for pr in stale]).values_list(
            "pull_request_id", "stale_since"
        )
    )
    return [pr for pr in stale if (pr.pk, pr.last_action) not in done]


def team_escalation_claim(
    *, team: Team, team_settings: TeamInboxSettings, user=None, now: datetime | None = None
) -> TeamEscalation | None:
    """Claim every stale pull request not escalated in its period into one escalation; None when none is left."""
    if team_settings.escalation_channel_id is None:
        return None
    candidates = escalation_candidates(team=team, team_settings=team_settings)
    if not candidates:
        return None
    escalation = TeamEscalation.objects.create(
        team=team, channel_id=team_settings.escalation_channel_id, requested_by=real_user(user)
    )
    claimed = 0
    for pr in candidates:
        try:
            with transaction.atomic():
                EscalatedPullRequest.objects.create(escalation=escalation, pull_request=pr, stale_since=pr.last_action)
            claimed += 1
        except IntegrityError:
            continue  # another click or worker escalated it in this period first
    if not claimed:
        escalation.delete()
        return None
    return escalation


def team_escalation_request(*, team: Team, team_settings: TeamInboxSettings, user=None) -> TeamEscalation | None:
    """Claim and queue the escalation's send after the commit."""
    from notifications.teams.tasks import team_escalation_send_task

    escalation = team_escalation_claim(team=team, team_settings=team_settings, user=user)
    if escalation is not None:
        transaction.on_commit(partial(team_escalation_send_task.delay, escalation.pk))
        audit_event_record(
            actor=user,
            verb="team.escalation_requested",
            target=team,
            data={"escalation": escalation.pk, "pull_requests": escalation.items.count()},
        )
    return escalation


def team_escalation_deliver(*, escalation_id: int, client: SlackClient | None = None) -> TeamEscalation:
    """Post one claimed escalation; when Slack refused it outright, its pull requests may be escalated again."""
    if not TeamEscalation.objects.filter(
        pk=escalation_id, status=Delivery.SENDING, delivery_started_at__isnull=True
    ).update(delivery_started_at=timezone.now()):
        return TeamEscalation.objects.get(pk=escalation_id)
    escalation = TeamEscalation.objects.select_related("team", "channel").get(pk=escalation_id)
    held = TeamEscalation.objects.filter(pk=escalation.pk, status=Delivery.SENDING)
    team = escalation.team
    settings_row = TeamInboxSettings.objects.filter(team=team).first() or TeamInboxSettings(team=team)
    stale_days = team_stale_days(team_settings=settings_row)
    ids = list(escalation.items.values_list("pull_request_id", flat=True))
    prs = list(team_stale_prs(team=team, stale_days=stale_days).filter(pk__in=ids)) if ids else []
    # A pull request that moved since the click is no longer stale: it is left out of the message.
    lines = [inbox_line(row) for row in inbox_rows(prs, stale_days=stale_days)]
    if not lines:
        held.update(status=Delivery.SKIPPED, error="none of its pull requests is stale any more")
        return TeamEscalation.objects.get(pk=escalation.pk)
    text, blocks = escalation_message(
        team_name=team.name or team.slug, lines=lines, stale_days=stale_days, inbox_url=inbox_url(team)
    )
    try:
        posted = post_to_channel(client_or_default(client), escalation.channel, text=text, blocks=blocks)
    except SlackRateLimitedError:
        held.update(delivery_started_at=None)
        raise
    except PostFailed as exc:
        held.update(status=Delivery.FAILED, error=exc.reason)
        if not exc.maybe_posted:
            # Nothing reached Slack: free the pull requests for the next click or round.
            EscalatedPullRequest.objects.filter(escalation=escalation).delete()
        return TeamEscalation.objects.get(pk=escalation.pk)
    held.update(status=Delivery.SENT, slack_ts=posted.ts, text=text, sent_at=timezone.now())
    audit_event_record(
        actor=None,
        verb="team.escalation_sent",
        target=team,
        data={"channel": escalation.channel.name, "slack_ts": posted.ts, "pull_requests": [ln["pr"] for ln in lines]},
    )
    return TeamEscalation.objects.get(pk=escalation.pk)
