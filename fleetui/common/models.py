"""Abstract base models shared by the domains (no concrete model lives here)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class TrackedRun(models.Model):
    """Background work a page shows and polls: its status, who asked for it, and when it was queued, started, ended."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    # A subclass with more statuses redefines Status and `status`, and these two tuples where they differ.
    FINAL_STATUSES: tuple[str, ...] = (Status.SUCCEEDED, Status.FAILED)
    CLAIMABLE_STATUSES: tuple[str, ...] = (Status.QUEUED,)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def done(self) -> bool:
        return self.status in self.FINAL_STATUSES

    def claim(self, **fields) -> bool:
        """Move the run to running with one conditional UPDATE; False when another worker claimed it first."""
        now = timezone.now()
        claimed = (
            type(self)
            ._default_manager.filter(pk=self.pk, status__in=self.CLAIMABLE_STATUSES)
            .update(status=self.Status.RUNNING, started_at=now, **fields)
        )
        if claimed:
            self.status, self.started_at = self.Status.RUNNING, now
            for name, value in fields.items():
                setattr(self, name, value)
        else:
            self.refresh_from_db()
        return bool(claimed)

    def finish(self, status: str, *, from_status: str | None = None, **fields) -> bool:
        """End the run with `status` (and other fields); with `from_status`, only if it is still in that status."""
        now = timezone.now()
        rows = type(self)._default_manager.filter(pk=self.pk)
        if from_status is not None:
            rows = rows.filter(status=from_status)
        ended = rows.update(status=status, finished_at=now, **fields)
        if ended:
            self.status, self.finished_at = status, now
            for name, value in fields.items():
                setattr(self, name, value)
        return bool(ended)
