"""Passing migration attempts in the order they ended, as an index: the review queue's first page reads its
first rows instead of sorting every open agent pull request."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("runs", "0019_feature_gaps")]

    operations = [
        migrations.AddIndex(
            model_name="attempt",
            index=models.Index(fields=["outcome", "phase", "ended_at", "id"], name="attempt_outcome_phase_ended"),
        ),
    ]
