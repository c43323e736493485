"""What nudge drafts do when the Slack directory changes; connected in NotificationsConfig.ready()."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from notifications.nudges.drafts import team_drafts_channel_update
from notifications.slack.models import TeamChannel


@receiver(post_save, sender=TeamChannel, dispatch_uid="nudges-team-channel-to-open-drafts")
def team_channel_to_open_drafts(sender, *, instance: TeamChannel, raw: bool = False, **kwargs) -> None:
    """A team's channel was set (chosen, matched or annotated): its open drafts go there too."""
    if raw:
        return
    team_drafts_channel_update(team_id=instance.team_id, channel=instance.channel)
