"""An index for the dashboard funnel's pull request look-ups."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("runs", "0012_failure_layers")]

    operations = [
        migrations.AddIndex(
            model_name="pullrequest",
            index=models.Index(fields=["migration", "repository", "-updated_at"], name="pr_repository_updated"),
        ),
    ]
