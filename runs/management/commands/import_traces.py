"""`manage.py import_traces`: imports agent traces from MLflow now, in this process."""

from django.core.management.base import BaseCommand, CommandError

from runs.imports.models import ImportRun
from runs.imports.services import import_run_execute


class Command(BaseCommand):
    help = "Import agent traces from MLflow (incremental; safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--tracking-uri", help="MLflow tracking URI (default: MLFLOW_TRACKING_URI)")
        parser.add_argument(
            "--experiment", action="append", dest="experiments", help="experiment name or id (repeatable)"
        )
        parser.add_argument("--full", action="store_true", help="re-read every trace, not only new ones")

    def handle(self, *args, **options):
        run = import_run_execute(
            trigger="command",
            full=options["full"],
            tracking_uri=options["tracking_uri"],
            experiments=options["experiments"],
        )
        summary = (
            f"import #{run.pk} {run.status}: seen {run.seen}, imported {run.imported}, updated {run.updated}, "
            f"skipped {run.skipped}, errors {run.errors}"
        )
        for row in run.error_rows.all()[:20]:
            self.stderr.write(f"  {row.trace_id or '-'}: {row.reason}")
        if run.errors > 20:
            self.stderr.write(f"  ... and {run.errors - 20} more errors (see the import page)")
        if run.status == ImportRun.Status.FAILED:
            raise CommandError(f"{summary}\n{run.message}")
        self.stdout.write(self.style.SUCCESS(summary))
