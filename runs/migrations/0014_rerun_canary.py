"""Canary reruns: phase, rules and the reason a batch paused."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("runs", "0013_page_counts")]

    operations = []
