"""Send each nudge exactly once: claim it, pace the channel, post (or reply in the first thread)."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from fleetui.common.liveness import heartbeat
from fleetui.common.roles import real_user
from notifications.nudges.compose import pr_line
from notifications.nudges.drafts import CHANNEL_PACE_SECONDS, NudgeNotSendable, nudge_blocks, nudge_lines_refresh
from notifications.nudges.models import Nudge
from notifications.slack.client import PermanentSlackError, SlackClient, SlackRateLimitedError, TransientSlackError
from notifications.slack.directory import slack_client_from_settings
from notifications.slack.models import SlackChannel, TeamChannel
from notifications.slack.tasks import DEFAULT_RETRY_SECONDS
from runs.fleet.audit import audit_event_record
from runs.fleet.models import PullRequest

logger = logging.getLogger(__name__)


def nudge_send_claim(*, nudge_id: int, user, due: datetime | None = None) -> bool:
    """Move a draft (or a failed nudge the owner retries) to sending; only one caller ever wins.

    `due` is when its task is expected to start (now, or later when paced): a watchdog waits that long, plus the
    heartbeat timeout, before it takes the queued send for lost.
    """
    now = timezone.now()
    claimed = Nudge.objects.filter(pk=nudge_id, status__in=[Nudge.Status.DRAFT, Nudge.Status.FAILED]).update(
        status=Nudge.Status.SENDING,
        sent_by=real_user(user),
        delivery_started_at=None,
        post_started_at=None,
        queued_at=due or now,
        heartbeat_at=None,
        claim_token="",
        recoveries=0,
        error="",
        updated_at=now,
    )
    if claimed != 1:
        return False

    nudge = Nudge.objects.select_related("migration").get(pk=nudge_id)
    audit_event_record(
        actor=user, verb="nudge.send", target=nudge, migration=nudge.migration, data={"team_id": nudge.team_id}
    )
    return True


def nudge_send_enqueue(*, nudges: list[Nudge], user) -> tuple[list[Nudge], list[Nudge]]:
    """Claim each nudge and queue its send, one channel's sends about a second apart; returns (queued, refused)."""
    # Here, not at the top: the tasks module imports this one.
    from notifications.nudges.tasks import nudge_send_task

    queued, refused = [], []
    per_channel: dict[int | None, int] = {}
    for nudge in nudges:
        slot = per_channel.get(nudge.channel_id, 0)
        countdown = slot * CHANNEL_PACE_SECONDS
        due = timezone.now() + timedelta(seconds=countdown)
        if not nudge_send_claim(nudge_id=nudge.pk, user=user, due=due):
            refused.append(nudge)
            continue
        per_channel[nudge.channel_id] = slot + 1
        transaction.on_commit(lambda pk=nudge.pk, c=countdown: nudge_send_task.apply_async(args=[pk], countdown=c))
        queued.append(nudge)
    return queued, refused


def nudge_send(*, nudge_id: int, user, client: SlackClient | None = None) -> Nudge:
    """Claim and deliver at once (command line and tests); raises NudgeNotSendable when already claimed."""
    if not nudge_send_claim(nudge_id=nudge_id, user=user):
        raise NudgeNotSendable(f"nudge {nudge_id} is already sent or sending")
    return nudge_deliver(nudge_id=nudge_id, client=client)


def _fail(nudge: Nudge, reason: str) -> Nudge:
    # Only while this worker's delivery claim holds: after a recovery the nudge is no longer ours to write.
    nudge.status, nudge.error = Nudge.Status.FAILED, reason[:2000]
    held = Nudge.objects.filter(pk=nudge.pk, claim_token=nudge.claim_token, status=Nudge.Status.SENDING)
    if held.update(status=nudge.status, error=nudge.error, updated_at=timezone.now()):
        audit_event_record(
            actor=None, verb="nudge.failed", target=nudge, migration=nudge.migration, data={"error": nudge.error[:500]}
        )
    return nudge


def _pace_channel(channel: SlackChannel) -> None:
    # About one message a second per channel, across workers: wait for the channel's last send to age.
    last = (
        Nudge.objects.filter(channel=channel, sent_at__isnull=False)
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
    ).first()
    if last is not None:
        wait = CHANNEL_PACE_SECONDS - (timezone.now() - last).total_seconds()
        if 0 < wait <= CHANNEL_PACE_SECONDS:
            time.sleep(wait)


def nudge_deliver(*, nudge_id: int, client: SlackClient | None = None) -> Nudge:
    """Post a claimed nudge once: join a public channel if needed, thread follow-ups, record ts and permalink.

    Never inside a transaction. A 429 (nothing posted) is re-raised for the task to retry; any other transient
    failure may have posted already, so the nudge is marked failed for the owner to check and retry by hand.
    While it works, a heartbeat thread shows the watchdog that this worker is alive.
    """
    # Only one worker may call Slack for this claim, even when the task is delivered twice.
    claim = Nudge.claim_fields()
    if not Nudge.objects.filter(pk=nudge_id, status=Nudge.Status.SENDING, delivery_started_at__isnull=True).update(
        delivery_started_at=timezone.now(), **claim
    ):
        return Nudge.objects.get(pk=nudge_id)
    nudge = Nudge.objects.select_related("team", "migration", "channel").get(pk=nudge_id)
    with heartbeat(nudge):
        return _deliver(nudge, client)


def _deliver(nudge: Nudge, client: SlackClient | None) -> Nudge:
    held = Nudge.objects.filter(pk=nudge.pk, claim_token=nudge.claim_token, status=Nudge.Status.SENDING)
    if nudge.channel is None:
        team_channel = (
            TeamChannel.objects.filter(team=nudge.team, channel__isnull=False).select_related("channel").first()
        )
        if team_channel is None:
            return _fail(nudge, f"team {nudge.team.slug} has no Slack channel yet: choose one on the unowned queue")
        nudge.channel = team_channel.channel
        held.update(channel=nudge.channel)
    channel = nudge.channel
    if channel.is_archived:
        return _fail(nudge, f"#{channel.name} is archived: choose another channel for the team")
    client = client or _client()
    if not channel.is_member:
        if channel.is_private:
            return _fail(nudge, _not_in_private(channel))
        try:
            client.join_channel(channel.channel_id)
        except (PermanentSlackError, TransientSlackError) as exc:
            return _fail(nudge, f"could not join #{channel.name}: {exc}")
        SlackChannel.objects.filter(pk=channel.pk).update(is_member=True)
    first = (
        Nudge.objects.filter(migration=nudge.migration, team=nudge.team, channel=channel, status=Nudge.Status.SENT)
        .exclude(pk=nudge.pk)
        .exclude(slack_ts="")
        .filter(thread_ts="")
        .order_by("sent_at", "pk")
        .first()
    )
    # The message says what is true when it is sent: a PR merged since drafting drops out, one whose CI
    # broke is marked not ready; with no pull request left there is nothing to ask.
    nudge_lines_refresh(nudge)
    if not any(line["kind"] == "pr" for line in nudge.lines):
        return _fail(
            nudge, "every pull request of this nudge was merged or closed since it was drafted: nothing to send"
        )
    text, blocks = nudge_blocks(nudge)
    _pace_channel(channel)
    # From here on Slack may have the message: a watchdog that finds this worker gone hands it to a person.
    now = timezone.now()
    if not held.update(post_started_at=now, heartbeat_at=now):
        return Nudge.objects.get(pk=nudge.pk)
    try:
        posted = client.post_message(
            channel.channel_id, text=text, blocks=blocks, thread_ts=first.slack_ts if first else None
        )
    except SlackRateLimitedError as exc:
        # Slack refused before posting: release the delivery claim so the retried task can send, and tell the
        # watchdog when that retry is due.
        due = timezone.now() + timedelta(seconds=exc.retry_after or DEFAULT_RETRY_SECONDS)
        held.update(delivery_started_at=None, post_started_at=None, claim_token="", heartbeat_at=None, queued_at=due)
        raise
    except PermanentSlackError as exc:
        if exc.code == "not_in_channel":
            return _fail(nudge, _not_in_private(channel) if channel.is_private else f"not_in_channel: {exc}")
        return _fail(nudge, f"Slack refused the message: {exc}")
    except TransientSlackError as exc:
        return _fail(
            nudge,
            f"{exc} — the message may or may not have been posted; check #{channel.name} before retrying",
        )
    nudge.status, nudge.slack_ts, nudge.sent_at = Nudge.Status.SENT, posted.ts, timezone.now()
    nudge.text, nudge.blocks = text, blocks
    nudge.thread_ts = first.slack_ts if first else ""
    try:
        nudge.permalink = client.get_permalink(channel.channel_id, posted.ts)[:500]
    except (PermanentSlackError, TransientSlackError) as exc:
        logger.info("no permalink for nudge %s: %s", nudge.pk, exc)
    recorded = held.update(
        status=nudge.status,
        slack_ts=nudge.slack_ts,
        sent_at=nudge.sent_at,
        text=nudge.text,
        blocks=nudge.blocks,
        lines=nudge.lines,
        thread_ts=nudge.thread_ts,
        permalink=nudge.permalink,
        updated_at=timezone.now(),
    )
    if not recorded:
        # The watchdog took this send for lost while it was posting: the nudge already asks a person to check.
        logger.warning("nudge %s was posted (ts %s) after it was handed to a person", nudge.pk, posted.ts)
        return Nudge.objects.get(pk=nudge.pk)
    audit_event_record(
        actor=None,
        verb="nudge.sent",
        target=nudge,
        migration=nudge.migration,
        data={
            "channel": channel.name,
            "slack_ts": nudge.slack_ts,
            "thread_ts": nudge.thread_ts,
            "pull_requests": [line["pr"] for line in nudge.lines if line["kind"] == "pr"],
        },
    )
    if first is not None:
        _refresh_first_message(first=first, client=client, follow_up=nudge)
    return nudge


def _not_in_private(channel: SlackChannel) -> str:
    return f"not_in_channel: #{channel.name} is private and the bot is not a member; invite it (/invite) and retry"


def _client() -> SlackClient:

    return slack_client_from_settings()


def _refresh_first_message(*, first: Nudge, client: SlackClient, follow_up: Nudge) -> None:
    """Update the team's first nudge in place with the current state of its PRs."""
    now = timezone.now()
    current = {pr.pk: pr for pr in first.pull_requests.select_related("repository", "attempt")}
    lines = []
    for line in first.lines:
        pr = current.get(line.get("pr")) if line.get("kind") == "pr" else None
        if pr is not None:
            # The first message keeps what it said of readiness; only the PR's live state is refreshed.
            fresh = {**pr_line(pr, now), **{k: line[k] for k in ("ready", "reasons") if k in line}}
            if pr.state != PullRequest.State.OPEN:
                fresh["review"] = pr.state
            lines.append(fresh)
        else:
            lines.append(line)
    first.lines = lines
    text, blocks = nudge_blocks(first)
    try:
        client.update_message(first.channel.channel_id, first.slack_ts, text=text, blocks=blocks)
    except (PermanentSlackError, TransientSlackError) as exc:
        Nudge.objects.filter(pk=follow_up.pk).update(error=f"sent, but the first message was not updated: {exc}")
        return
    first.blocks = blocks
    first.save(update_fields=["lines", "blocks", "updated_at"])
