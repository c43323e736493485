"""Canary reruns: a batch may start with a sample and expand when it fixes enough."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("runs", "0013_pull_request_page_index")]

    operations = [
        migrations.AddField(
            model_name="rerunbatch",
            name="phase",
            field=models.CharField(
                choices=[("full", "full"), ("canary", "canary"), ("expanded", "expanded"), ("paused", "paused")],
                default="full",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="rerunbatch",
            name="canary_requested",
            field=models.JSONField(
                blank=True, null=True, help_text='The canary asked for: {"size": n} or {"fraction": f}.'
            ),
        ),
        migrations.AddField(
            model_name="rerunbatch",
            name="canary_size",
            field=models.PositiveIntegerField(blank=True, null=True, help_text="Items chosen as the canary."),
        ),
        migrations.AddField(
            model_name="rerunbatch",
            name="canary_min_fixed",
            field=models.FloatField(blank=True, null=True, help_text="Share of the canary that must be fixed."),
        ),
        migrations.AddField(
            model_name="rerunbatch",
            name="canary_max_new_cluster_share",
            field=models.FloatField(
                blank=True, null=True, help_text="Largest share of the canary one new cluster may take."
            ),
        ),
        migrations.AddField(
            model_name="rerunbatch",
            name="paused_reason",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="rerunbatch",
            name="phase_changed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="rerunitem",
            name="canary",
            field=models.BooleanField(
                default=False, help_text="Runs first; the batch's other items wait for its verdict."
            ),
        ),
        migrations.AlterField(
            model_name="rerunitem",
            name="state",
            field=models.CharField(
                choices=[
                    ("queued", "queued"),
                    ("dispatched", "dispatched"),
                    ("running", "running"),
                    ("succeeded", "succeeded"),
                    ("failed", "failed"),
                    ("cancelled", "cancelled"),
                    ("held", "held"),
                ],
                default="queued",
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="rerunitem",
            name="outcome",
            field=models.CharField(
                choices=[
                    ("pending", "runner busy"),
                    ("waiting", "waiting for attempt"),
                    ("fixed", "fixed"),
                    ("still_failing", "still failing"),
                    ("new_failure", "new failure"),
                    ("runner_failed", "runner failed"),
                    ("no_attempt", "no new attempt"),
                    ("cancelled", "cancelled"),
                    ("held", "held for the canary"),
                ],
                default="pending",
                help_text="Set from the new attempt once it is imported, linked and clustered (runs.reruns.outcomes).",
                max_length=20,
            ),
        ),
    ]
