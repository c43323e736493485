"""What the Slack directory does when an earlier stage finishes; connected in NotificationsConfig.ready()."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from notifications.nudges.drafts import team_drafts_channel_update
from notifications.ownership.signals import ownership_resolved
from notifications.slack.directory import team_channels_refresh
from notifications.slack.models import TeamChannel


@receiver(ownership_resolved, dispatch_uid="slack-team-channels-after-ownership")
def team_channels_after_ownership(sender, *, catalog=None, **kwargs) -> None:
    """Owners changed: decide each team's channel again, with the catalog just read."""
    team_channels_refresh(catalog=catalog)


@receiver(post_save, sender=TeamChannel, dispatch_uid="slack-team-channel-to-open-drafts")
def team_channel_to_open_drafts(sender, *, instance: TeamChannel, raw: bool = False, **kwargs) -> None:
    """A team's channel was set (chosen, matched or annotated): its open drafts go there too."""
    if raw:
        return
    team_drafts_channel_update(team_id=instance.team_id, channel=instance.channel)
