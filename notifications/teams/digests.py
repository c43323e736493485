"""A team's daily digest across migrations: at most one message per team and day, follow-ups in its thread.

The (team, day) row is claimed by inserting it (or by a conditional update of a failed or empty one) before
anything is sent, so a double click or two workers never post twice; a follow-up is claimed by moving the
digest's follow-up count from n to n + 1, which only one caller can do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from functools import partial

from django.db import IntegrityError, transaction
from django.utils import timezone

from fleetui.common.roles import real_user
from notifications.slack.client import SlackClient, SlackRateLimitedError
from notifications.teams.messages import digest_changes, digest_message, followup_message
from notifications.teams.models import Delivery, TeamDigest, TeamDigestFollowUp
from notifications.teams.posting import (
    PostFailed,
    client_or_default,
    inbox_url,
    permalink_or_blank,
    post_to_channel,
    team_channel,
)
from notifications.teams.selectors import team_inbox_lines, team_settings_get, team_stale_days
from runs.fleet.audit import audit_event_record
from runs.fleet.models import PullRequest, Team

logger = logging.getLogger(__name__)

# A digest row in these states may be claimed again the same day: nothing reached Slack.
RECLAIMABLE = (Delivery.FAILED, Delivery.SKIPPED)


@dataclass(frozen=True)
class DigestClaim:
    """What a request claimed: "digest" (the day's message), "followup" (a reply in its thread) or "busy"."""

    kind: str
    digest_id: int | None = None
    followup_id: int | None = None


def team_digest_claim(*, team: Team, user=None, day: date | None = None, retry_failed: bool = True) -> DigestClaim:
    """Claim the team's digest of the day, or the next follow-up in its thread once it was sent.

    A failed digest is claimed again only when `retry_failed` (a person's click): Slack may have it already.
    """
    day = day or timezone.localdate()
    try:
        with transaction.atomic():
            digest = TeamDigest.objects.create(team=team, day=day, requested_by=real_user(user))
        return DigestClaim("digest", digest.pk)
    except IntegrityError:
        digest = TeamDigest.objects.get(team=team, day=day)
    reclaimable = RECLAIMABLE if retry_failed else (Delivery.SKIPPED,)
    if digest.status in reclaimable:
        again = TeamDigest.objects.filter(pk=digest.pk, status__in=reclaimable).update(
            status=Delivery.SENDING, delivery_started_at=None, error="", requested_by=real_user(user)
        )
        return DigestClaim("digest", digest.pk) if again else DigestClaim("busy", digest.pk)
    if digest.status != Delivery.SENT:
        return DigestClaim("busy", digest.pk)
    with transaction.atomic():
        # One follow-up at a time: the next compares with what the previous one said.
        moved = (
            TeamDigest.objects.filter(pk=digest.pk, status=Delivery.SENT, followups=digest.followups)
            .exclude(followup_messages__status=Delivery.SENDING)
            .update(followups=digest.followups + 1)
        )
        if not moved:
            return DigestClaim("busy", digest.pk)
        followup = TeamDigestFollowUp.objects.create(digest=digest, number=digest.followups + 1)
    return DigestClaim("followup", digest.pk, followup.pk)


def team_digest_request(*, team: Team, user=None, retry_failed: bool = True) -> DigestClaim:
    """Claim and queue the send after the commit (the page's button, the periodic round)."""
    # Here, not at the top: the tasks module imports this one.
    from notifications.teams.tasks import team_digest_followup_task, team_digest_send_task

    claim = team_digest_claim(team=team, user=user, retry_failed=retry_failed)
    if claim.kind == "digest":
        transaction.on_commit(partial(team_digest_send_task.delay, claim.digest_id))
    elif claim.kind == "followup":
        transaction.on_commit(partial(team_digest_followup_task.delay, claim.followup_id))
    if claim.kind != "busy" and user is not None:
        audit_event_record(actor=user, verb=f"team.{claim.kind}_requested", target=team, data={"team": team.slug})
    return claim


def _lines_and_days(team: Team) -> tuple[list[dict], int]:
    stale_days = team_stale_days(team_settings=team_settings_get(team=team))
    return team_inbox_lines(team=team, stale_days=stale_days), stale_days


def team_digest_deliver(*, digest_id: int, client: SlackClient | None = None) -> TeamDigest:
    """Post a claimed digest once; only the worker that sets delivery_started_at calls Slack."""
    if not TeamDigest.objects.filter(pk=digest_id, status=Delivery.SENDING, delivery_started_at__isnull=True).update(
        delivery_started_at=timezone.now()
    ):
        return TeamDigest.objects.get(pk=digest_id)
    digest = TeamDigest.objects.select_related("team").get(pk=digest_id)
    held = TeamDigest.objects.filter(pk=digest.pk, status=Delivery.SENDING)
    lines, stale_days = _lines_and_days(digest.team)
    if not lines:
        held.update(status=Delivery.SKIPPED, lines=[], error="no open agent pull request: nothing to send")
        return TeamDigest.objects.get(pk=digest.pk)
    channel = team_channel(digest.team)
    text, blocks = digest_message(
        team_name=digest.team.name or digest.team.slug,
        lines=lines,
        stale_days=stale_days,
        inbox_url=inbox_url(digest.team),
    )
    client = client_or_default(client)
    try:
        posted = post_to_channel(client, channel, text=text, blocks=blocks)
    except SlackRateLimitedError:
        held.update(delivery_started_at=None)
        raise
    except PostFailed as exc:
        held.update(status=Delivery.FAILED, error=exc.reason, channel=channel)
        audit_event_record(actor=None, verb="team.digest_failed", target=digest.team, data={"error": exc.reason[:500]})
        return TeamDigest.objects.get(pk=digest.pk)
    held.update(
        status=Delivery.SENT,
        channel=channel,
        slack_ts=posted.ts,
        permalink=permalink_or_blank(client, channel, posted.ts),
        text=text,
        lines=lines,
        sent_at=timezone.now(),
    )
    audit_event_record(
        actor=None,
        verb="team.digest_sent",
        target=digest.team,
        data={"day": digest.day.isoformat(), "slack_ts": posted.ts, "pull_requests": [line["pr"] for line in lines]},
    )
    return TeamDigest.objects.get(pk=digest.pk)


def team_digest_followup_deliver(*, followup_id: int, client: SlackClient | None = None) -> TeamDigestFollowUp:
    """Reply in the digest's thread with what changed since its last message, or nothing when nothing did."""
    if not TeamDigestFollowUp.objects.filter(
        pk=followup_id, status=Delivery.SENDING, delivery_started_at__isnull=True
    ).update(delivery_started_at=timezone.now()):
        return TeamDigestFollowUp.objects.get(pk=followup_id)
    followup = TeamDigestFollowUp.objects.select_related("digest__team", "digest__channel").get(pk=followup_id)
    digest = followup.digest
    held = TeamDigestFollowUp.objects.filter(pk=followup.pk, status=Delivery.SENDING)
    previous = (
        TeamDigestFollowUp.objects.filter(digest=digest, status=Delivery.SENT, number__lt=followup.number)
        .order_by("-number")
        .values_list("lines", flat=True)
        .first()
    )
    before = previous if previous is not None else digest.lines
    after, _ = _lines_and_days(digest.team)
    gone = {line["pr"] for line in before} - {line["pr"] for line in after}
    closed = dict(PullRequest.objects.filter(pk__in=gone).values_list("pk", "state"))
    changes = digest_changes(before, after, closed=closed)
    if not changes:
        held.update(status=Delivery.SKIPPED, lines=after)
        return TeamDigestFollowUp.objects.get(pk=followup.pk)
    text, blocks = followup_message(changes=changes)
    client = client_or_default(client)
    try:
        posted = post_to_channel(client, digest.channel, text=text, blocks=blocks, thread_ts=digest.slack_ts)
    except SlackRateLimitedError:
        held.update(delivery_started_at=None)
        raise
    except PostFailed as exc:
        held.update(status=Delivery.FAILED, error=exc.reason)
        return TeamDigestFollowUp.objects.get(pk=followup.pk)
    held.update(
        status=Delivery.SENT, slack_ts=posted.ts, text=text, lines=after, changes=changes, sent_at=timezone.now()
    )
    audit_event_record(
        actor=None,
        verb="team.digest_followup_sent",
        target=digest.team,
        data={"day": digest.day.isoformat(), "thread_ts": digest.slack_ts, "changes": len(changes)},
    )
    return TeamDigestFollowUp.objects.get(pk=followup.pk)
