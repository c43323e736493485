"""Sync the Slack channel directory now and re-decide team channels."""

from django.core.management.base import BaseCommand, CommandError

from notifications.slack.directory import directory_sync_execute


class Command(BaseCommand):
    help = "List the Slack workspace's channels into the directory (SLACK_BOT_TOKEN, SLACK_API_URL)."

    def handle(self, *args, **options):
        run = directory_sync_execute()
        if run.status != "succeeded":
            raise CommandError(f"directory sync failed: {run.error}")
        self.stdout.write(
            f"Listed {run.listed} channels: {run.created} new, {run.renamed} renamed, {run.gone} gone."
            + (f" {run.error}" if run.error else "")
        )
