"""What fleetui wrote back to MLflow, so each label is updated rather than duplicated."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0003_importrun_experiments_importrun_skip_reasons"),
        ("triage", "0003_cluster_causes_and_deciding_lines"),
    ]

    operations = [
        migrations.CreateModel(
            name="MlflowLabel",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("trace_id", models.CharField(max_length=100)),
                ("name", models.CharField(help_text="The assessment's name, e.g. fleet.cluster.", max_length=100)),
                (
                    "cluster_id",
                    models.PositiveIntegerField(
                        blank=True, help_text="The cluster a fleet.cluster label names.", null=True
                    ),
                ),
                ("assessment_id", models.CharField(blank=True, max_length=64)),
                ("source_id", models.CharField(blank=True, max_length=200)),
                (
                    "value_hash",
                    models.CharField(blank=True, help_text="Of value, rationale, metadata and source.", max_length=64),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "not written yet"),
                            ("written", "written"),
                            ("trace_missing", "trace no longer in MLflow"),
                            ("failed", "failed"),
                        ],
                        default="pending",
                        max_length=20,
                    ),
                ),
                ("error", models.TextField(blank=True)),
                ("writes", models.PositiveIntegerField(default=0, help_text="How many times it was sent to MLflow.")),
                ("claimed_at", models.DateTimeField(blank=True, help_text="Set while a worker writes it.", null=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "migration",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="runs.migration",
                    ),
                ),
            ],
            options={
                "ordering": ["-updated_at", "id"],
                "indexes": [
                    models.Index(fields=["migration", "status"], name="mlflowlabel_migration_status"),
                    models.Index(fields=["cluster_id"], name="mlflowlabel_cluster"),
                ],
                "constraints": [models.UniqueConstraint(fields=("trace_id", "name"), name="unique_mlflow_label")],
            },
        ),
    ]
