"""Write the deterministic demo fleet into MLflow, and its ownership data into the data folder."""

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from runs.demo.fleet import HOUR_MS, fleet_plan
from runs.demo.ownership import ownership_write
from runs.demo.writer import fleet_exists, fleet_wipe, fleet_write


class Command(BaseCommand):
    help = "Write a realistic demo fleet of migration attempts as MLflow traces (seeded, repeatable)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=7, help="Random seed: the same seed gives the same fleet.")
        parser.add_argument("--tracking-uri", default=None, help="MLflow tracking URI (default: MLFLOW_TRACKING_URI).")
        parser.add_argument("--repos", type=int, default=320, help="How many repositories the fleet has.")
        parser.add_argument("--force", action="store_true", help="Delete the demo experiments' traces first.")
        parser.add_argument(
            "--catalog-dir", default=None, help="Where to write ownership data (default: DATA_DIR/demo-catalog)."
        )
        parser.add_argument(
            "--writers",
            type=int,
            default=None,
            help="Processes writing traces side by side (default 1: SQLite takes one commit at a time).",
        )

    def handle(self, *args, **options):
        tracking_uri = options["tracking_uri"] or settings.MLFLOW_TRACKING_URI
        catalog_dir = Path(options["catalog_dir"]) if options["catalog_dir"] else settings.DATA_DIR / "demo-catalog"
        # Attempts end before the current hour, so dashboards show the last two weeks.
        anchor_ms = int(time.time() * 1000) // HOUR_MS * HOUR_MS
        fleet = fleet_plan(seed=options["seed"], repo_count=options["repos"], anchor_ms=anchor_ms)
        slugs = [m.slug for m in fleet.migrations]

        if fleet_exists(tracking_uri=tracking_uri, migration_slugs=slugs):
            if not options["force"]:
                self.stdout.write(
                    f"The demo fleet already exists in {tracking_uri}; nothing to do (use --force to rewrite it)."
                )
                return
            deleted = fleet_wipe(tracking_uri=tracking_uri, migration_slugs=slugs)
            self.stdout.write(f"Deleted {deleted} traces from the demo experiments.")

        ownership = ownership_write(fleet=fleet, directory=catalog_dir)
        self.stdout.write(
            f"Wrote ownership data to {catalog_dir}: {len(ownership.groups)} groups, {len(ownership.components)} components, "
            f"{len(ownership.codeowners)} CODEOWNERS files, {len(ownership.channels)} Slack channels."
        )

        started = time.monotonic()
        self.stdout.write(f"Writing {len(fleet.attempts)} traces in batches...")

        def progress(done: int, total: int) -> None:
            elapsed = time.monotonic() - started
            self.stdout.write(f"  {done}/{total} traces ({elapsed:.1f} s, {done / max(elapsed, 1e-6):.0f} a second)")

        summary = fleet_write(fleet, tracking_uri=tracking_uri, progress=progress, workers=options["writers"])
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {summary.traces} traces ({summary.assessments} judge assessments) for {len(fleet.repos)} repositories "
                f"and {len(fleet.migrations)} migrations into {tracking_uri} in {elapsed:.1f} s."
            )
        )
