"""What was written back to MLflow, so it is updated and not duplicated."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("runs", "0015_attempt_costs")]

    operations = []
