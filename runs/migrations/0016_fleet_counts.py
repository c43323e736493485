"""Counts per migration and state kept up to date instead of recounted per page."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("runs", "0015_infrastructure_retries")]

    operations = [
        migrations.CreateModel(
            name="MigrationCounts",
            fields=[
                (
                    "migration",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="kept_counts",
                        serialize=False,
                        to="runs.migration",
                    ),
                ),
                ("repos_by_state", models.JSONField(default=dict, help_text="Repository state -> repositories in it.")),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("agent_failures", models.PositiveIntegerField(default=0)),
                ("pre_existing_failures", models.PositiveIntegerField(default=0)),
                (
                    "failures_by_day",
                    models.JSONField(default=dict, help_text="ISO day -> failed migration attempts ended that day."),
                ),
                ("first_ended_at", models.DateTimeField(blank=True, null=True)),
                ("last_ended_at", models.DateTimeField(blank=True, null=True)),
                ("burndown", models.JSONField(default=dict, help_text="Days and repositories per state per day.")),
                (
                    "verifier_pass_rates",
                    models.JSONField(default=list, help_text="[build system, passed calls, calls]."),
                ),
                (
                    "prompt_revisions",
                    models.JSONField(default=list, help_text="[revision number, failed attempts, attempts]."),
                ),
                (
                    "attempts_histogram",
                    models.JSONField(default=dict, help_text="Attempt count -> repositories with that many."),
                ),
                ("refreshed_at", models.DateTimeField(auto_now=True)),
            ],
            options={"verbose_name_plural": "migration counts"},
        ),
    ]
