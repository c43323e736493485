"""Read-only queries on import runs and their errors."""

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from runs.imports.models import ImportRun, ImportRunError


def import_run_list() -> QuerySet[ImportRun]:
    """Import runs, newest first."""
    return ImportRun.objects.select_related("requested_by").order_by("-created_at", "-id")


def import_run_errors_preview(*, run_ids: list[int], per_run: int = 5) -> dict[int, list[ImportRunError]]:
    """The first few error rows of each run, in one query."""
    if not run_ids:
        return {}
    numbered = ImportRunError.objects.filter(run_id__in=run_ids).annotate(
        row=Window(RowNumber(), partition_by=[F("run_id")], order_by=F("id").asc())
    )
    preview: dict[int, list[ImportRunError]] = {run_id: [] for run_id in run_ids}
    for error in numbered.filter(row__lte=per_run).order_by("run_id", "id"):
        preview[error.run_id].append(error)
    return preview


def import_run_get(*, run_id: int) -> ImportRun | None:
    return ImportRun.objects.select_related("requested_by").filter(pk=run_id).first()


def import_run_error_list(*, run: ImportRun) -> QuerySet[ImportRunError]:
    return ImportRunError.objects.filter(run=run).order_by("id")
