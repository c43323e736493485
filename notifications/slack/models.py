"""The Slack channel directory, its sync runs, and each team's channel."""

from django.conf import settings
from django.db import models

from fleetui.common.models import TrackedRun
from runs.fleet.models import Team


class SlackChannel(models.Model):
    """A channel of the Slack workspace as last listed; the id stays when the name changes."""

    channel_id = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200, db_index=True)
    is_private = models.BooleanField(default=False)
    is_archived = models.BooleanField(default=False)
    is_member = models.BooleanField(default=False)
    num_members = models.PositiveIntegerField(default=0)
    seen_in_sync = models.BooleanField(default=True, help_text="False once a sync no longer lists it.")
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "channel_id"]

    def __str__(self) -> str:
        return f"#{self.name}"


class DirectorySyncRun(TrackedRun):
    """One sync of the Slack channel directory."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        RETRYING = "retrying", "rate limited, retrying"
        FAILED = "failed", "failed"

    # A rate-limited sync is retried by its task, which claims it again.
    CLAIMABLE_STATUSES = (Status.QUEUED, Status.RETRYING)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=20, default="schedule")
    listed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    renamed = models.PositiveIntegerField(default=0)
    gone = models.PositiveIntegerField(default=0)
    private_included = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"directory sync #{self.pk} {self.status}"


class TeamChannel(models.Model):
    """Where a team's nudges go, and how that was decided."""

    class Source(models.TextChoices):
        EXPLICIT = "explicit", "catalog annotation"
        MATCHED = "matched", "matched by name"
        ADMIN = "admin", "chosen by an admin"

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="slack_channel")
    channel = models.ForeignKey(SlackChannel, null=True, blank=True, on_delete=models.SET_NULL, related_name="teams")
    source = models.CharField(max_length=20, choices=Source.choices, blank=True)
    score = models.FloatField(null=True, blank=True)
    candidates = models.JSONField(default=list, blank=True, help_text="Top matches: id, name, score, reason.")
    detail = models.CharField(max_length=500, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.team} -> {self.channel or 'no channel'}"
