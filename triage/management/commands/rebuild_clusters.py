"""Rebuild the failure clusters of one migration or of every migration, in this process."""

from django.core.management.base import BaseCommand, CommandError

from runs.fleet.models import Migration
from triage.clusters.models import ClusteringRun
from triage.clusters.services import clustering_run_execute


class Command(BaseCommand):
    help = "Recluster the current failures of a migration (or all), keeping the identity of clusters that persist."

    def add_arguments(self, parser):
        parser.add_argument("--migration", help="slug of one migration (default: every migration)")
        parser.add_argument("--threshold", type=float, default=None, help="similarity threshold (default: setting)")

    def handle(self, *args, **options):
        threshold = options["threshold"]
        if threshold is not None and not 0.0 < threshold <= 1.0:
            raise CommandError("--threshold must be in (0, 1]")
        migrations = Migration.objects.order_by("slug")
        if options["migration"]:
            migrations = migrations.filter(slug=options["migration"])
            if not migrations.exists():
                raise CommandError(f"no migration with slug {options['migration']!r}")
        failed = False
        for migration in migrations:
            run = clustering_run_execute(migration_id=migration.pk, mode=ClusteringRun.Mode.FULL, threshold=threshold)
            if run is None:
                self.stdout.write(f"{migration.slug}: another clustering run is busy; skipped")
            elif run.status == ClusteringRun.Status.FAILED:
                failed = True
                self.stderr.write(f"{migration.slug}: failed: {run.error}")
            else:
                self.stdout.write(
                    f"{migration.slug}: {run.failures} failures in {run.clusters} clusters "
                    f"({run.new_clusters} new) in {run.seconds:.1f} s"
                )
        if failed:
            raise CommandError("some rebuilds failed")
