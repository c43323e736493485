"""Canary reruns: a batch may start with a sample and expand when it fixes enough."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("runs", "0013_pull_request_page_index")]

    operations = []
