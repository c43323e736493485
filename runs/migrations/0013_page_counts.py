"""Counts kept per migration and state, for pages that must not recount."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("runs", "0012_failure_layers")]

    operations = []
