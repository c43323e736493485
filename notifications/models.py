"""Ownership provenance, the Slack channel directory, team channels and nudges."""

from django.conf import settings
from django.db import models

from runs.models import Migration, PullRequest, Repository, Team


class OwnershipOverride(models.Model):
    """An owner set by hand in fleetui; it beats CODEOWNERS and the catalog."""

    repository = models.OneToOneField(Repository, on_delete=models.CASCADE, related_name="ownership_override")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="ownership_overrides")
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.repository} -> {self.team}"


class RepositoryOwnership(models.Model):
    """How a repository's owning team was decided: source, detail and warnings of the last resolution."""

    repository = models.OneToOneField(Repository, on_delete=models.CASCADE, related_name="ownership")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=20, help_text="override, codeowners, catalog or none")
    detail = models.TextField(blank=True)
    warnings = models.JSONField(default=list, blank=True)
    resolved_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "repository ownerships"

    def __str__(self) -> str:
        return f"{self.repository}: {self.source}"


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


class DirectorySyncRun(models.Model):
    """One sync of the Slack channel directory."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        RETRYING = "retrying", "rate limited, retrying"
        FAILED = "failed", "failed"

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=20, default="schedule")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    listed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    renamed = models.PositiveIntegerField(default=0)
    gone = models.PositiveIntegerField(default=0)
    private_included = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

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


class Nudge(models.Model):
    """One Slack message to one team about its migration PRs: drafted, then sent once."""

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        SENDING = "sending", "sending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"
        CANCELLED = "cancelled", "cancelled"

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
