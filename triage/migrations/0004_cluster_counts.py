"""Counts kept per cluster."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("triage", "0003_cluster_causes_and_deciding_lines")]

    operations = []
