"""JSON API for import runs: list, start, and one run with its errors."""

from django.http import JsonResponse
from django.urls import reverse

from fleetui.common.api import ApiError, api_view, iso, paginate
from fleetui.common.roles import MIGRATION_OWNER, forbidden_response, user_has_role
from runs.imports import selectors
from runs.imports.models import ImportRun
from runs.imports.services import import_run_enqueue


def import_run_json(run: ImportRun) -> dict:
    return {
        "id": run.pk,
        "status": run.status,
        "done": run.done,
        "trigger": run.trigger,
        "requested_by": run.requested_by.get_username() if run.requested_by else None,
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "seen": run.seen,
        "imported": run.imported,
        "updated": run.updated,
        "skipped": run.skipped,
        "errors": run.errors,
        "watermark_ms": run.watermark_ms,
        "message": run.message,
        "url": reverse("api-import-detail", args=[run.pk]),
    }


@api_view("GET", "POST")
def imports(request):
    if request.method == "POST":
        if not user_has_role(request.user, MIGRATION_OWNER):
            return forbidden_response(request, (MIGRATION_OWNER,))
        run = import_run_enqueue(trigger="api", user=request.user)
        return JsonResponse(import_run_json(run), status=202)
    return JsonResponse(paginate(request, selectors.import_run_list(), lambda rows: map(import_run_json, rows)))


@api_view("GET")
def import_detail(request, run_id: int):
    run = selectors.import_run_get(run_id=run_id)
    if run is None:
        raise ApiError(404, f"no import run {run_id}")
    errors = paginate(
        request,
        selectors.import_run_error_list(run=run),
        lambda rows: ({"trace_id": e.trace_id, "reason": e.reason, "created_at": iso(e.created_at)} for e in rows),
    )
    return JsonResponse({**import_run_json(run), "error_rows": errors})
