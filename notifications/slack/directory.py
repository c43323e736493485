"""Sync the Slack channel directory and decide each team's channel (explicit, admin's choice or matched)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fleetui.common.roles import real_user
from notifications.ownership.rules import Catalog
from notifications.ownership.services import catalog_load
from notifications.slack.client import Channel, SlackClient, SlackRateLimitedError
from notifications.slack.matching import TeamInfo, choose_channel, match_channels, resolve_explicit_channel
from notifications.slack.models import DirectorySyncRun, SlackChannel, TeamChannel
from runs.fleet.audit import audit_event_record
from runs.fleet.models import Team

logger = logging.getLogger(__name__)

CANDIDATES_KEPT = 5


def slack_client_from_settings() -> SlackClient:
    """The Slack client configured by SLACK_BOT_TOKEN, SLACK_API_URL and SLACK_TIMEOUT."""
    return SlackClient(settings.SLACK_BOT_TOKEN, base_url=settings.SLACK_API_URL, timeout=settings.SLACK_TIMEOUT)


def directory_sync_enqueue(*, trigger: str, user=None) -> DirectorySyncRun:
    """Queue a directory sync (the task runs it after the commit)."""
    # Here, not at the top: the tasks module imports this one.
    from notifications.slack.tasks import slack_directory_sync_task

    run = DirectorySyncRun.objects.create(trigger=trigger, requested_by=real_user(user))
    if user is not None:
        audit_event_record(actor=user, verb="slack.directory_sync", target=run)
    transaction.on_commit(lambda: slack_directory_sync_task.delay(run.pk))
    return run


def directory_sync_execute(
    *, run: DirectorySyncRun | None = None, client: SlackClient | None = None, page_size: int = 1000
) -> DirectorySyncRun:
    """List every channel and store it by id; channels no longer listed are marked, not deleted.

    A SlackRateLimitedError propagates (with the run marked retrying) so the task can retry after retry_after.
    """

    run = run or DirectorySyncRun.objects.create(trigger="schedule")
    # Claim the run: a redelivered task finds it running or done and does nothing.
    if not run.claim(error=""):
        logger.info("directory sync %s is already %s; nothing to do", run.pk, run.status)
        return run
    client = client or slack_client_from_settings()
    try:
        # Listing happens before any write: a failure half-way leaves the directory as it was.
        channels = list(
            client.list_channels(
                include_private=settings.SLACK_INCLUDE_PRIVATE, exclude_archived=False, limit=page_size
            )
        )
    except SlackRateLimitedError as exc:
        run.status, run.error = DirectorySyncRun.Status.RETRYING, f"rate limited; retry after {exc.retry_after}s"
        run.save(update_fields=["status", "error"])
        raise
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the run for the page
        run.status, run.finished_at, run.error = DirectorySyncRun.Status.FAILED, timezone.now(), str(exc)[:2000]
        run.save(update_fields=["status", "finished_at", "error"])
        logger.warning("Slack directory sync failed: %s", exc)
        return run
    _directory_store(run=run, channels=channels, private_included=client.last_listing.private_included)
    missing = client.last_listing.missing_scope
    if missing:
        run.error = f"private channels not listed: the bot token lacks {missing}"
    run.status, run.finished_at = DirectorySyncRun.Status.SUCCEEDED, timezone.now()
    run.save()
    team_channels_refresh()
    return run


def _directory_store(*, run: DirectorySyncRun, channels: list[Channel], private_included: bool) -> None:
    now = timezone.now()
    listed = {c.id: c for c in channels}
    with transaction.atomic():
        existing = {c.channel_id: c for c in SlackChannel.objects.select_for_update()}
        new, changed = [], []
        for cid, channel in listed.items():
            row = existing.get(cid)
            if row is None:
                new.append(
                    SlackChannel(
                        channel_id=cid,
                        name=channel.name,
                        is_private=channel.is_private,
                        is_archived=channel.is_archived,
                        is_member=channel.is_member,
                        num_members=channel.num_members,
                        seen_in_sync=True,
                        last_seen_at=now,
                    )
                )
                continue
            if row.name != channel.name:
                run.renamed += 1
            row.name, row.is_private, row.is_archived = channel.name, channel.is_private, channel.is_archived
            row.is_member, row.num_members, row.seen_in_sync, row.last_seen_at = (
                channel.is_member,
                channel.num_members,
                True,
                now,
            )
            changed.append(row)
        gone = []
        for cid, row in existing.items():
            # Without groups:read private channels are simply not listed: that is not "gone".
            if cid not in listed and row.seen_in_sync and (private_included or not row.is_private):
                row.seen_in_sync = False
                gone.append(row)
        SlackChannel.objects.bulk_create(new, batch_size=500)
        fields = ["name", "is_private", "is_archived", "is_member", "num_members", "seen_in_sync", "last_seen_at"]
        SlackChannel.objects.bulk_update(changed + gone, fields, batch_size=500)
    run.listed, run.created, run.gone, run.private_included = len(listed), len(new), len(gone), private_included


def _as_channel(row: SlackChannel) -> Channel:
    return Channel(
        id=row.channel_id,
        name=row.name,
        is_private=row.is_private,
        is_archived=row.is_archived,
        is_member=row.is_member,
        num_members=row.num_members,
    )


@dataclass(frozen=True)
class ChannelDecision:
    channel_id: str | None
    source: str
    score: float | None
    detail: str


def team_info_for(team: Team, catalog: Catalog | None) -> TeamInfo:
    """Names to match a team's channel on: the catalog's display name and aliases, plus the team's own."""
    base = catalog.team_info(team.slug) if catalog is not None else TeamInfo(slug=team.slug)
    name = base.name if base.name and base.name != team.slug else (team.name or team.slug)
    # The team's own display name counts too when the catalog gives another one.
    own = [team.name] if team.name and team.name != name else []
    aliases = tuple(dict.fromkeys([*base.aliases, *own, *(team.aliases or [])]))
    return TeamInfo(slug=team.slug, name=name, aliases=aliases)


def team_notify_annotations(team: Team, catalog: Catalog | None) -> list[tuple[str, str]]:
    """The catalog's slack.com/bot-notify channels for a team, in the order to try them, with where each was read.

    The team's Group annotation first; then the annotations of the team's components (one annotated component
    is enough; when several name different channels, the one most of them name first, then by name).
    """
    if catalog is None:
        return []
    found: list[tuple[str, str]] = []
    group_value = catalog.notify_channel(team=team.slug)
    if group_value:
        found.append((group_value, f"catalog Group {team.slug}"))
    votes: dict[str, list[str]] = {}
    for component in catalog.components.values():
        if component.notify_channel and (component.owner or "").lower() == team.slug.lower():
            votes.setdefault(component.notify_channel, []).append(component.name)
    for value in sorted(votes, key=lambda v: (-len(votes[v]), v.lstrip("#").lower())):
        names = sorted(votes[value])
        more = f" and {len(names) - 1} more" if len(names) > 1 else ""
        found.append((value, f"catalog Component {names[0]}{more}"))
    return found


def team_channels_refresh(*, catalog: Catalog | None = None, threshold: float | None = None) -> dict[str, int]:
    """Decide every team's channel: an admin's choice stays, then the catalog annotation, then a confident match."""
    if catalog is None:
        catalog = _catalog_or_none()
    threshold = settings.CHANNEL_MATCH_THRESHOLD if threshold is None else threshold
    rows = list(SlackChannel.objects.filter(seen_in_sync=True))
    by_slack_id = {r.channel_id: r for r in rows}
    usable = [_as_channel(r) for r in rows if not r.is_archived]
    current = {tc.team_id: tc for tc in TeamChannel.objects.select_related("channel")}
    counts = {"explicit": 0, "matched": 0, "admin": 0, "unmatched": 0}
    for team in Team.objects.all():
        existing = current.get(team.pk)
        candidates = match_channels(team_info_for(team, catalog), usable, limit=CANDIDATES_KEPT)
        stored = [
            {"id": c.channel_id, "name": c.channel_name, "score": c.score, "reason": c.reason} for c in candidates
        ]
        if (
            existing is not None
            and existing.source == TeamChannel.Source.ADMIN
            and existing.channel is not None
            and existing.channel.seen_in_sync
            and not existing.channel.is_archived
        ):
            existing.candidates = stored
            existing.save(update_fields=["candidates", "updated_at"])
            counts["admin"] += 1
            continue
        decision = _decide(team, catalog, usable, candidates, threshold)
        channel = by_slack_id.get(decision.channel_id) if decision.channel_id else None
        TeamChannel.objects.update_or_create(
            team=team,
            defaults={
                "channel": channel,
                "source": decision.source if channel else "",
                "score": decision.score,
                "candidates": stored,
                "detail": decision.detail[:500],
                "confirmed_by": None,
                "confirmed_at": None,
            },
        )
        counts[decision.source if channel else "unmatched"] += 1
    return counts


def _decide(
    team: Team, catalog: Catalog | None, usable: list[Channel], candidates, threshold: float
) -> ChannelDecision:
    fallback = ""
    for explicit, where in team_notify_annotations(team, catalog):
        found = resolve_explicit_channel(explicit, usable)
        if found is not None:
            return ChannelDecision(
                found.id, TeamChannel.Source.EXPLICIT, 1.0, f"{fallback}{where} slack.com/bot-notify {explicit}"
            )
        fallback += f"{where} names {explicit}, which is not in the directory; "
    chosen = choose_channel(candidates, threshold=threshold)
    if chosen is not None:
        return ChannelDecision(chosen.channel_id, TeamChannel.Source.MATCHED, chosen.score, fallback + chosen.reason)
    best = f"best match #{candidates[0].channel_name} scores {candidates[0].score:.2f}" if candidates else "no match"
    return ChannelDecision(
        None, "", candidates[0].score if candidates else None, f"{fallback}{best}, below {threshold:.2f}"
    )


def _catalog_or_none() -> Catalog | None:

    try:
        return catalog_load()
    except Exception as exc:  # noqa: BLE001 - channel matching still works on names alone
        logger.warning("catalog unavailable for channel matching: %s", exc)
        return None


def team_channel_choose(*, team: Team, channel: SlackChannel, user) -> TeamChannel:
    """An admin's choice (or confirmation) of a team's channel; later syncs keep it."""

    now = timezone.now()
    team_channel, _ = TeamChannel.objects.update_or_create(
        team=team,
        defaults={
            "channel": channel,
            "source": TeamChannel.Source.ADMIN,
            "confirmed_by": user,
            "confirmed_at": now,
            "detail": f"chosen by {user.get_username()}",
        },
    )
    audit_event_record(actor=user, verb="team.channel_chosen", target=team, data={"channel": channel.channel_id})
    return team_channel
