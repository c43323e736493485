"""Pull-request sync runs, their chunks and errors, GitHub webhook deliveries, and the ETags of GitHub GETs."""

from django.db import models

from fleetui.common.models import Liveness, TrackedRun
from runs.fleet.models import Migration, PullRequest


class PullRequestSyncRun(TrackedRun):
    """One refresh of pull-request state from GitHub, split into chunks worked on in parallel."""

    trigger = models.CharField(max_length=20, default="manual")
    migration = models.ForeignKey(Migration, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    total = models.PositiveIntegerField(default=0, help_text="Pull requests selected for this run.")
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    checked = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    not_modified = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"pull request sync #{self.pk} {self.status}"


class PullRequestSyncChunk(models.Model):
    """A slice of a sync run's pull requests, handled by one task; `pull_request_ids` holds those left to do."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        RUNNING = "running", "running"
        DONE = "done", "done"

    run = models.ForeignKey(PullRequestSyncRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    pull_request_ids = models.JSONField(default=list, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="unique_pr_sync_chunk")]

    def __str__(self) -> str:
        return f"sync #{self.run_id} chunk {self.index} {self.status}"


class PullRequestSyncError(models.Model):
    """A pull request a sync run could not refresh, and why."""

    run = models.ForeignKey(PullRequestSyncRun, on_delete=models.CASCADE, related_name="error_rows")
    pull_request = models.ForeignKey(PullRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    url = models.CharField(max_length=500, blank=True)
    status_code = models.IntegerField(null=True, blank=True)
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.url}: {self.reason[:80]}"


class WebhookDelivery(Liveness):
    """A GitHub webhook delivery, stored once per delivery id so a redelivery is recognised."""

    class Status(models.TextChoices):
        RECEIVED = "received", "received"
        PROCESSING = "processing", "processing"
        PROCESSED = "processed", "processed"
        IGNORED = "ignored", "ignored"
        FAILED = "failed", "failed"

    # Received (queued) and processing deliveries are in flight: a watchdog queues again those whose worker is
    # gone; applying a delivery again is harmless.
    LIVE_STATUSES = (Status.RECEIVED, Status.PROCESSING)
    RETRY_STATUS = Status.RECEIVED
    GIVE_UP_STATUS = Status.FAILED
    LIVENESS_SINCE_FIELD = "queued_at"

    delivery_id = models.CharField(max_length=100, unique=True)
    event = models.CharField(max_length=60)
    action = models.CharField(max_length=60, blank=True)
    repository = models.CharField(max_length=300, blank=True, help_text="owner/name")
    data = models.JSONField(default=dict, blank=True, help_text="The parsed fields the dashboard uses.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    message = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When processing was queued, or when its delayed retry is due."
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event}.{self.action} {self.delivery_id}"


class GitHubETag(models.Model):
    """The validator and parsed answer of one GitHub GET (per URL and query, so per page of a list).

    Kept in the database so a 304 from any worker, or after a restart, still yields the stored value.
    """

    key = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the URL with its sorted query.")
    url = models.TextField()
    etag = models.CharField(max_length=200, blank=True)
    last_modified = models.CharField(max_length=64, blank=True)
    value = models.JSONField(null=True, blank=True, help_text="The parsed answer, encoded by runs.github.codec.")
    next_url = models.TextField(blank=True, help_text="The page's Link rel=next.")
    validated_at = models.DateTimeField(db_index=True, help_text="Last answered 200 or 304 (at most a day old).")

    class Meta:
        verbose_name = "GitHub ETag"

    def __str__(self) -> str:
        return f"{self.etag} {self.url}"
