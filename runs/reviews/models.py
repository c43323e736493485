"""The reviewer gate: reviewers' decisions on agent pull requests and the patterns they tag."""

from django.conf import settings
from django.db import models

from fleetui.common.models import Liveness
from runs.fleet.models import Attempt, Migration, PullRequest


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


class ReviewDecision(Liveness):
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

    # Pending (queued) and running pushes are in flight; a watchdog queues again those whose worker is gone
    # (an approval is idempotent, a comment is looked for by its marker before it is posted again).
    LIVENESS_FIELD = "github_status"
    LIVE_STATUSES = (GitHubStatus.PENDING, GitHubStatus.RUNNING)
    RETRY_STATUS = GitHubStatus.PENDING
    GIVE_UP_STATUS = GitHubStatus.FAILED
    LIVENESS_SINCE_FIELD = "queued_at"

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
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When the push was queued, or when its delayed retry is due."
    )
    comment_attempted_at = models.DateTimeField(
        null=True, blank=True, help_text="Set before the comment is posted: a retry first looks for it on GitHub."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        # One decision per pull request and attempt: a double click finds the first one.
        constraints = [models.UniqueConstraint(fields=["pull_request", "attempt"], name="unique_review_decision")]
        indexes = [models.Index(fields=["migration", "decision"])]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} {self.pull_request}"
