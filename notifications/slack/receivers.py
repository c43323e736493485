"""What the Slack directory does when an earlier stage finishes; connected in NotificationsConfig.ready()."""

from django.dispatch import receiver

from notifications.ownership.signals import ownership_resolved
from notifications.slack.directory import team_channels_refresh


@receiver(ownership_resolved, dispatch_uid="slack-team-channels-after-ownership")
def team_channels_after_ownership(sender, *, catalog=None, **kwargs) -> None:
    """Owners changed: decide each team's channel again, with the catalog just read."""
    team_channels_refresh(catalog=catalog)
