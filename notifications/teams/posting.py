"""Post one team message to a Slack channel with the Slack client: join a public channel first, say why not."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from notifications.slack.client import (
    PermanentSlackError,
    PostedMessage,
    SlackClient,
    SlackRateLimitedError,
    TransientSlackError,
)
from notifications.slack.directory import slack_client_from_settings
from notifications.slack.models import SlackChannel, TeamChannel
from runs.fleet.models import Team


class PostFailed(Exception):
    """Nothing to retry by itself: the reason is shown to a person. `maybe_posted` when Slack may have it."""

    def __init__(self, reason: str, *, maybe_posted: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason[:2000]
        self.maybe_posted = maybe_posted


def inbox_url(team: Team) -> str:
    return settings.FLEETUI_BASE_URL + reverse("notifications:team-inbox", args=[team.slug])


def team_channel(team: Team) -> SlackChannel | None:
    found = TeamChannel.objects.filter(team=team, channel__isnull=False).select_related("channel").first()
    return found.channel if found else None


def client_or_default(client: SlackClient | None) -> SlackClient:
    return client or slack_client_from_settings()


def post_to_channel(
    client: SlackClient, channel: SlackChannel | None, *, text: str, blocks: list[dict], thread_ts: str = ""
) -> PostedMessage:
    """Post once; raises PostFailed, or SlackRateLimitedError when Slack refused before posting (retry later)."""
    if channel is None:
        raise PostFailed("the team has no Slack channel yet: choose one on the unowned queue")
    if channel.is_archived:
        raise PostFailed(f"#{channel.name} is archived: choose another channel")
    if not channel.is_member:
        if channel.is_private:
            raise PostFailed(f"#{channel.name} is private and the bot is not a member; invite it (/invite)")
        try:
            client.join_channel(channel.channel_id)
        except SlackRateLimitedError:
            raise
        except (PermanentSlackError, TransientSlackError) as exc:
            raise PostFailed(f"could not join #{channel.name}: {exc}") from exc
        SlackChannel.objects.filter(pk=channel.pk).update(is_member=True)
    try:
        return client.post_message(channel.channel_id, text=text, blocks=blocks, thread_ts=thread_ts or None)
    except SlackRateLimitedError:
        raise
    except PermanentSlackError as exc:
        raise PostFailed(f"Slack refused the message: {exc}") from exc
    except TransientSlackError as exc:
        # A reset connection may have posted already: a person checks the channel before retrying.
        raise PostFailed(
            f"{exc}: the message may or may not have been posted; check #{channel.name}", maybe_posted=True
        ) from exc


def permalink_or_blank(client: SlackClient, channel: SlackChannel, ts: str) -> str:
    try:
        return client.get_permalink(channel.channel_id, ts)[:500]
    except (PermanentSlackError, TransientSlackError):
        return ""
