"""The members that joined each cluster in the last two days, kept by the hour: the overview's "clusters that grew"
sums them instead of counting every member that joined in its window."""

from datetime import UTC, timedelta

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import TruncHour
from django.utils import timezone


def fill(apps, schema_editor):
    """Count the joins of the last two days from the members, as the clusters' next counting would."""
    member = apps.get_model("triage", "ClusterMember")
    joins = apps.get_model("triage", "ClusterJoins")
    recent = member.objects.filter(joined_at__gte=timezone.now() - timedelta(days=2))
    rows = (
        recent.annotate(hour=TruncHour("joined_at", tzinfo=UTC))
        .values("cluster_id", "hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    joins.objects.bulk_create(
        (
            joins(cluster_id=r["cluster_id"], hour=r["hour"], members=r["n"]) for r in rows
        ),
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [("triage", "0006_cluster_counts_kept")]

    operations = [
        migrations.CreateModel(
            name="ClusterJoins",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("hour", models.DateTimeField(help_text="The hour the members joined in (its start).")),
                ("members", models.PositiveIntegerField(default=0)),
                (
                    "cluster",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="kept_joins",
                        to="triage.failurecluster",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "cluster joins",
                "indexes": [models.Index(fields=["hour", "cluster"], name="cluster_joins_since")],
                "constraints": [models.UniqueConstraint(fields=("cluster", "hour"), name="cluster_joins_hour")],
            },
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
