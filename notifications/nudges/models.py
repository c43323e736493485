"""Nudges and team snoozes."""

from django.conf import settings
from django.db import models

from fleetui.common.models import Liveness
from notifications.slack.models import SlackChannel
from runs.fleet.models import Migration, PullRequest, Repository, Team


class TeamSnooze(models.Model):
    """No nudges for a team (for one migration or all) until a date."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="snoozes")
    migration = models.ForeignKey(Migration, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    until = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-until"]

    def __str__(self) -> str:
        return f"{self.team} snoozed until {self.until:%Y-%m-%d}"


class Nudge(Liveness):
    """One Slack message to one team about its migration PRs: drafted, then sent once."""

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        SENDING = "sending", "sending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"
        CANCELLED = "cancelled", "cancelled"

    # A sending nudge is in flight: queued (no delivery claim yet) or held by the worker that calls Slack.
    # A watchdog sends it back to be delivered, or, once Slack may have the message, to failed for a person.
    LIVE_STATUSES = (Status.SENDING,)
    RETRY_STATUS = Status.SENDING
    GIVE_UP_STATUS = Status.FAILED
    LIVENESS_SINCE_FIELD = "queued_at"

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="nudges")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="nudges")
    channel = models.ForeignKey(SlackChannel, null=True, blank=True, on_delete=models.SET_NULL, related_name="nudges")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    text = models.TextField(help_text="The intro text, editable before sending.")
    why = models.TextField(blank=True)
    due = models.DateField(null=True, blank=True)
    blocks = models.JSONField(default=list, blank=True)
    lines = models.JSONField(default=list, blank=True, help_text="Snapshot of the PR or repository lines.")
    pull_requests = models.ManyToManyField(PullRequest, blank=True, related_name="nudges")
    repositories = models.ManyToManyField(Repository, blank=True, related_name="nudges")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    delivery_started_at = models.DateTimeField(
        null=True, blank=True, help_text="Set by the one worker allowed to call Slack for this send."
    )
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When the send was queued, or when its delayed retry is due."
    )
    post_started_at = models.DateTimeField(
        null=True, blank=True, help_text="Set just before the message is posted: from then on Slack may have it."
    )
    slack_ts = models.CharField(max_length=40, blank=True)
    thread_ts = models.CharField(max_length=40, blank=True, help_text="The first nudge's ts when this is a follow-up.")
    permalink = models.URLField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["migration", "team", "status"])]

    def __str__(self) -> str:
        return f"nudge #{self.pk} {self.team} ({self.status})"
