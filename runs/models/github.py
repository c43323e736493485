"""Pull-request sync runs, webhook deliveries and the reviewer gate."""

from django.conf import settings
from django.db import models

from runs.models.core import Attempt, Migration, PullRequest

__all__ = [
    "PullRequestSyncRun",
    "PullRequestSyncChunk",
    "PullRequestSyncError",
    "WebhookDelivery",
    "ReviewPattern",
    "ReviewDecision",
]


class PullRequestSyncRun(models.Model):
    """One refresh of pull-request state from GitHub, split into chunks worked on in parallel."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    trigger = models.CharField(max_length=20, default="manual")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    migration = models.ForeignKey(Migration, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0, help_text="Pull requests selected for this run.")
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    checked = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    not_modified = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"pull request sync #{self.pk} {self.status}"

    @property
    def done(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


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


class WebhookDelivery(models.Model):
    """A GitHub webhook delivery, stored once per delivery id so a redelivery is recognised."""

    class Status(models.TextChoices):
        RECEIVED = "received", "received"
        PROCESSED = "processed", "processed"
        IGNORED = "ignored", "ignored"
        FAILED = "failed", "failed"

    delivery_id = models.CharField(max_length=100, unique=True)
    event = models.CharField(max_length=60)
    action = models.CharField(max_length=60, blank=True)
    repository = models.CharField(max_length=300, blank=True, help_text="owner/name")
    data = models.JSONField(default=dict, blank=True, help_text="The parsed fields the dashboard uses.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    message = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event}.{self.action} {self.delivery_id}"


class ReviewPattern(models.Model):
    """A named reason reviewers send agent changes back for, per migration (e.g. "deleted tests")."""

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="review_patterns")
    slug = models.SlugField(max_length=100)
    label = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["migration", "label"]
        constraints = [models.UniqueConstraint(fields=["migration", "slug"], name="unique_review_pattern")]

    def __str__(self) -> str:
        return self.label


class ReviewDecision(models.Model):
    """A reviewer's approval of an agent's pull request, or their request for changes (which marks the attempt
    rejected by a reviewer, so it can be rerun)."""

    class Decision(models.TextChoices):
        APPROVE = "approve", "approve"
        REQUEST_CHANGES = "request_changes", "request changes"

    class GitHubStatus(models.TextChoices):
        PENDING = "pending", "pending on GitHub"
        RUNNING = "running", "sending to GitHub"
        DONE = "done", "done"
        FAILED = "failed", "GitHub error"
        NOT_NEEDED = "not_needed", "nothing to send"

    pull_request = models.ForeignKey(PullRequest, on_delete=models.CASCADE, related_name="review_decisions")
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="review_decisions")
    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="review_decisions")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    reviewer_name = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)
    patterns = models.ManyToManyField(ReviewPattern, blank=True, related_name="decisions")
    comment = models.BooleanField(default=False, help_text="Post the reason as a comment on the pull request.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    github_status = models.CharField(max_length=20, choices=GitHubStatus.choices, default=GitHubStatus.PENDING)
    github_error = models.TextField(blank=True)
    github_done_at = models.DateTimeField(null=True, blank=True)
    comment_url = models.URLField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # One decision per pull request and attempt: a double click finds the first one.
        constraints = [models.UniqueConstraint(fields=["pull_request", "attempt"], name="unique_review_decision")]
        indexes = [models.Index(fields=["migration", "decision"])]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} {self.pull_request}"
