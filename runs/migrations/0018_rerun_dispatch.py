"""Reserved for a schema change of this release."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("runs", "0017_page_speed")]

    operations = []
