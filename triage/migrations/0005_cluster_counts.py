"""Left empty: the kept counts per cluster came in 0006."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("triage", "0004_mlflow_writeback")]

    operations = []
