"""Cost and fix rate per cluster."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("triage", "0004_cluster_counts")]

    operations = []
