"""Resolve every repository's owning team, then each team's Slack channel."""

from django.core.management.base import BaseCommand

from notifications.ownership.services import catalog_load, ownership_resolve_all
from notifications.slack.directory import team_channels_refresh


class Command(BaseCommand):
    help = "Resolve repository owners (override, CODEOWNERS, Backstage catalog) and team channels."

    def add_arguments(self, parser):
        parser.add_argument("--catalog", default=None, help="Catalog YAML file or folder (default: the setting).")
        parser.add_argument(
            "--codeowners-dir", default=None, help="Folder of CODEOWNERS files named <owner>__<name> (no GitHub)."
        )

    def handle(self, *args, **options):
        catalog = catalog_load(catalog_path=options["catalog"])
        summary = ownership_resolve_all(codeowners_dir=options["codeowners_dir"], catalog=catalog)
        counts = team_channels_refresh(catalog=catalog)
        sources = ", ".join(f"{n} {source}" for source, n in sorted(summary.by_source.items()))
        self.stdout.write(
            f"Resolved {summary.repositories} repositories ({sources}); {summary.changed} changed, "
            f"{summary.kept} kept after read errors, {summary.teams_created} teams created."
        )
        self.stdout.write(f"Team channels: {counts}")
        for warning in summary.warnings[:20]:
            self.stdout.write(self.style.WARNING(warning))
