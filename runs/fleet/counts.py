"""A migration's counts kept in one row, refreshed when an import or a clustering run finishes, not per page."""

from django.db import models


class MigrationCounts(models.Model):
    """What the overview and the dashboard count of a migration, as of the last import or clustering that ended."""

    migration = models.OneToOneField(
        "runs.Migration", on_delete=models.CASCADE, primary_key=True, related_name="kept_counts"
    )
    repos_by_state = models.JSONField(default=dict, help_text="Repository state -> repositories in it.")
    attempts = models.PositiveIntegerField(default=0)
    agent_failures = models.PositiveIntegerField(default=0)
    pre_existing_failures = models.PositiveIntegerField(default=0)
    failures_by_day = models.JSONField(default=dict, help_text="ISO day -> failed migration attempts ended that day.")
    first_ended_at = models.DateTimeField(null=True, blank=True)
    last_ended_at = models.DateTimeField(null=True, blank=True)
    burndown = models.JSONField(default=dict, help_text="Days and repositories per state per day.")
    verifier_pass_rates = models.JSONField(default=list, help_text="[build system, passed calls, calls].")
    prompt_revisions = models.JSONField(default=list, help_text="[revision number, failed attempts, attempts].")
    attempts_histogram = models.JSONField(default=dict, help_text="Attempt count -> repositories with that many.")
    refreshed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "migration counts"

    def __str__(self) -> str:
        return f"counts of migration {self.migration_id}"
