"""Import runs, the traces they could not take in, and how far each MLflow experiment has been read."""

from django.db import models

from fleetui.common.models import TrackedRun


class ImportRun(TrackedRun):
    """One import of traces from MLflow, with its counts and errors."""

    trigger = models.CharField(max_length=20, default="manual")
    tracking_uri = models.CharField(max_length=500, blank=True)
    seen = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    watermark_ms = models.BigIntegerField(null=True, blank=True, help_text="Latest trace end time read.")
    message = models.TextField(blank=True)
    skip_reasons = models.JSONField(default=dict, blank=True, help_text="Skipped traces counted by reason.")
    experiments = models.JSONField(default=list, blank=True, help_text="Experiment ids read.")

    def __str__(self) -> str:
        return f"import #{self.pk} {self.status}"


class ImportRunError(models.Model):
    """A trace an import could not take in, and why."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="error_rows")
    trace_id = models.CharField(max_length=100, blank=True)
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.trace_id}: {self.reason[:80]}"


class ImportWatermark(models.Model):
    """How far imports have read one MLflow experiment (by trace end time)."""

    tracking_uri = models.CharField(max_length=500)
    experiment_id = models.CharField(max_length=100)
    end_time_ms = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tracking_uri", "experiment_id"], name="unique_watermark")]

    def __str__(self) -> str:
        return f"{self.experiment_id} @ {self.end_time_ms}"
