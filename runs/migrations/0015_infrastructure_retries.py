"""Infrastructure failures are retried automatically, once per policy."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("runs", "0014_rerun_canary")]

    operations = []
