"""Pages: import runs, their errors, and starting an import."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from fleetui.common.roles import MIGRATION_OWNER, role_required
from runs.imports import selectors
from runs.imports.services import import_run_enqueue

IMPORT_RUNS_PER_PAGE = 20
IMPORT_ERRORS_PER_PAGE = 50
IMPORT_ERRORS_PREVIEW = 5


def import_list(request):
    page = Paginator(selectors.import_run_list(), IMPORT_RUNS_PER_PAGE).get_page(request.GET.get("page"))
    runs = list(page.object_list)
    previews = selectors.import_run_errors_preview(run_ids=[r.pk for r in runs], per_run=IMPORT_ERRORS_PREVIEW)
    for run in runs:
        run.error_preview = previews.get(run.pk, [])
    return render(request, "imports/list.html", {"page": page, "runs": runs, "nav": "imports"})


def _import_run_or_404(run_id: int):
    run = selectors.import_run_get(run_id=run_id)
    if run is None:
        raise Http404("No import run with this id")
    return run


def import_detail(request, run_id: int):
    run = _import_run_or_404(run_id)
    page = Paginator(selectors.import_run_error_list(run=run), IMPORT_ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "imports/detail.html", {"run": run, "page": page, "nav": "imports"})


def import_status(request, run_id: int):
    """The status partial the detail page polls while the run is not done."""
    run = _import_run_or_404(run_id)
    return TemplateResponse(request, "imports/detail.html#status", {"run": run})


@require_POST
@role_required(MIGRATION_OWNER)
def import_start(request):
    run = import_run_enqueue(trigger="manual", user=request.user)
    messages.success(request, f"Import #{run.pk} queued; this page refreshes its status until it is done.")
    return redirect("import-detail", run_id=run.pk)
