"""Failure layers on attempts and targets."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("runs", "0011_github_etags")]

    operations = []
