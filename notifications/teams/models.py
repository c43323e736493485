"""Per-team inbox settings, the daily digest (one row per team and day) and escalations of stale pull requests."""

from django.conf import settings
from django.db import models

from notifications.slack.models import SlackChannel
from runs.fleet.models import PullRequest, Team


class TeamInboxSettings(models.Model):
    """A team's digest switch, stale threshold override and escalation channel."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="inbox_settings")
    digest_enabled = models.BooleanField(default=False, help_text="Send the team one digest a day across migrations.")
    stale_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Days without activity before a pull request is stale; blank: the default."
    )
    escalation_channel = models.ForeignKey(
        SlackChannel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "team inbox settings"

    def __str__(self) -> str:
        return f"inbox settings of {self.team}"


class Delivery(models.TextChoices):
    SENDING = "sending", "sending"
    SENT = "sent", "sent"
    SKIPPED = "skipped", "nothing to say"
    FAILED = "failed", "failed"


class TeamDigest(models.Model):
    """The one digest message of a team on one day; claiming this row is what allows the send."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="digests")
    day = models.DateField()
    status = models.CharField(max_length=20, choices=Delivery.choices, default=Delivery.SENDING)
    channel = models.ForeignKey(SlackChannel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    lines = models.JSONField(default=list, blank=True, help_text="The pull requests as the message listed them.")
    text = models.TextField(blank=True)
    slack_ts = models.CharField(max_length=40, blank=True)
    permalink = models.URLField(max_length=500, blank=True)
    followups = models.PositiveIntegerField(default=0, help_text="Follow-ups claimed in its thread.")
    delivery_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "team"]
        constraints = [models.UniqueConstraint(fields=["team", "day"], name="unique_team_digest_day")]

    def __str__(self) -> str:
        return f"digest of {self.team} on {self.day}"


class TeamDigestFollowUp(models.Model):
    """A reply in the day's digest thread saying what changed since the last message."""

    digest = models.ForeignKey(TeamDigest, on_delete=models.CASCADE, related_name="followup_messages")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Delivery.choices, default=Delivery.SENDING)
    lines = models.JSONField(default=list, blank=True)
    changes = models.JSONField(default=list, blank=True)
    text = models.TextField(blank=True)
    slack_ts = models.CharField(max_length=40, blank=True)
    delivery_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["digest", "number"]
        constraints = [models.UniqueConstraint(fields=["digest", "number"], name="unique_digest_followup")]

    def __str__(self) -> str:
        return f"follow-up {self.number} of {self.digest}"


class TeamEscalation(models.Model):
    """One message to a team's escalation channel about its stale pull requests."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="escalations")
    channel = models.ForeignKey(SlackChannel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, choices=Delivery.choices, default=Delivery.SENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    text = models.TextField(blank=True)
    slack_ts = models.CharField(max_length=40, blank=True)
    delivery_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"escalation #{self.pk} of {self.team} ({self.status})"


class EscalatedPullRequest(models.Model):
    """A stale pull request escalated once for its stale period (the period starts at its last activity)."""

    escalation = models.ForeignKey(TeamEscalation, on_delete=models.CASCADE, related_name="items")
    pull_request = models.ForeignKey(PullRequest, on_delete=models.CASCADE, related_name="+")
    stale_since = models.DateTimeField(help_text="Its last activity: new activity starts a new stale period.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pull_request", "stale_since"], name="unique_escalation_per_stale_period")
        ]

    def __str__(self) -> str:
        return f"{self.pull_request} stale since {self.stale_since:%Y-%m-%d}"
