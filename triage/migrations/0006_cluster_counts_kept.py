"""Each cluster's counts kept in one row instead of recounted per page, and the member table's order as an
index (a page of a large cluster reads its first rows only)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("triage", "0005_cluster_counts")]

    operations = [
        migrations.CreateModel(
            name="ClusterCounts",
            fields=[
                (
                    "cluster",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="kept_counts",
                        serialize=False,
                        to="triage.failurecluster",
                    ),
                ),
                ("members", models.PositiveIntegerField(default=0)),
                ("usd_known", models.DecimalField(blank=True, decimal_places=6, max_digits=18, null=True)),
                ("priced_known", models.PositiveIntegerField(default=0, help_text="Attempts with a recorded cost.")),
                ("tokens_in", models.BigIntegerField(default=0)),
                ("tokens_out", models.BigIntegerField(default=0)),
                (
                    "open_in",
                    models.BigIntegerField(default=0, help_text="Input tokens of attempts without a recorded cost."),
                ),
                (
                    "open_out",
                    models.BigIntegerField(default=0, help_text="Output tokens of attempts without a recorded cost."),
                ),
                (
                    "open_attempts",
                    models.PositiveIntegerField(default=0, help_text="Attempts without a cost but with tokens."),
                ),
                ("agent_ms", models.BigIntegerField(default=0)),
                ("layers", models.JSONField(default=dict, help_text="Layer -> members whose attempt is in it.")),
                (
                    "days",
                    models.JSONField(default=dict, help_text="ISO day -> members whose failing attempt ended that day."),
                ),
                ("why", models.JSONField(default=dict, help_text="Why members were placed -> how many.")),
                (
                    "recent",
                    models.JSONField(
                        default=list, help_text="owner/name of the repositories that joined last, newest first."
                    ),
                ),
                ("counted_at", models.DateTimeField(auto_now=True)),
            ],
            options={"verbose_name_plural": "cluster counts"},
        ),
        migrations.AddIndex(
            model_name="clustermember",
            index=models.Index(fields=["cluster", "pre_existing", "-score"], name="member_cluster_order"),
        ),
    ]
