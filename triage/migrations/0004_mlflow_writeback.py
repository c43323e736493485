"""What fleetui wrote back to MLflow, so each label is updated rather than duplicated."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("triage", "0003_cluster_causes_and_deciding_lines")]

    operations = []
