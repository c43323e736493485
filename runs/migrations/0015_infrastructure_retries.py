"""Infrastructure failures are retried automatically, once per policy."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("runs", "0014_rerun_canary")]

    operations = [
        migrations.AddField(
            model_name="rerunbatch",
            name="kind",
            field=models.CharField(
                choices=[("rerun", "rerun"), ("infrastructure_retry", "infrastructure retry")],
                db_index=True,
                default="rerun",
                max_length=24,
            ),
        ),
    ]
