"""Pages: migration list, a migration's repositories, an attempt, and the imports."""

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from runs import selectors
from runs.forms import TargetFilterForm
from runs.models import Migration, RepositoryState
from runs.permissions import MIGRATION_OWNER, role_required

IMPORT_RUNS_PER_PAGE = 20
IMPORT_ERRORS_PER_PAGE = 50
IMPORT_ERRORS_PREVIEW = 5


def home(request):
    summaries = selectors.migration_summary_list()
    return render(
        request, "runs/home.html", {"summaries": summaries, "states": RepositoryState.choices, "nav": "migrations"}
    )


def migration_detail(request, slug: str):
    migration = get_object_or_404(Migration, slug=slug)
    form = TargetFilterForm(request.GET)
    filters = form.filters()
    targets = selectors.target_list(migration=migration, **filters)
    page = Paginator(targets, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    snippets = selectors.target_snippets(targets=rows)
    for target in rows:
        target.failure = snippets.get(target.pk)
    tab_counts = selectors.target_state_counts(migration=migration, team=filters["team"])
    context = {
        "nav": "migrations",
        "migration": migration,
        "form": form,
        "filters": filters,
        "page": page,
        "rows": rows,
        "tabs": [(value, label, tab_counts.get(value, 0)) for value, label in RepositoryState.choices],
        "total": sum(tab_counts.values()),
        "teams": selectors.team_choices(migration=migration),
    }
    return render(request, "runs/migration_detail.html", context)


def mlflow_trace_url(*, experiment_id: str, trace_id: str) -> str:
    """Link to the trace in MLflow's UI, or "" when no UI address is configured."""
    base = settings.MLFLOW_UI_URL.rstrip("/")
    if not base or not experiment_id:
        return ""
    return (
        f"{base}/#/experiments/{quote(experiment_id, safe='')}/traces?selectedEvaluationId={quote(trace_id, safe='')}"
    )


def attempt_detail(request, trace_id: str):
    attempt = selectors.attempt_get(trace_id=trace_id)
    if attempt is None:
        raise Http404("No attempt with this trace id")
    context = {
        "nav": "migrations",
        "attempt": attempt,
        "migration": attempt.migration,
        "verifier_results": list(attempt.verifier_results.all()),
        "judge": selectors.attempt_judge(attempt),
        "siblings": selectors.attempt_siblings(attempt=attempt),
        "mlflow_url": mlflow_trace_url(experiment_id=attempt.experiment_id, trace_id=attempt.trace_id),
    }
    return render(request, "runs/attempt_detail.html", context)


def import_list(request):
    page = Paginator(selectors.import_run_list(), IMPORT_RUNS_PER_PAGE).get_page(request.GET.get("page"))
    runs = list(page.object_list)
    previews = selectors.import_run_errors_preview(run_ids=[r.pk for r in runs], per_run=IMPORT_ERRORS_PREVIEW)
    for run in runs:
        run.error_preview = previews.get(run.pk, [])
    return render(request, "runs/import_list.html", {"page": page, "runs": runs, "nav": "imports"})


def _import_run_or_404(run_id: int):
    run = selectors.import_run_get(run_id=run_id)
    if run is None:
        raise Http404("No import run with this id")
    return run


def import_detail(request, run_id: int):
    run = _import_run_or_404(run_id)
    page = Paginator(selectors.import_run_error_list(run=run), IMPORT_ERRORS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "runs/import_detail.html", {"run": run, "page": page, "nav": "imports"})


def import_status(request, run_id: int):
    """The status partial the detail page polls while the run is not done."""
    run = _import_run_or_404(run_id)
    return TemplateResponse(request, "runs/import_detail.html#status", {"run": run})


def enqueue_import(*, trigger: str, user):
    """Start an import on a worker."""
    # Imported on use: the importer pulls in the MLflow client, which is slow to load.
    from runs.services.importing import import_run_enqueue

    return import_run_enqueue(trigger=trigger, user=user)


@require_POST
@role_required(MIGRATION_OWNER)
def import_start(request):
    run = enqueue_import(trigger="manual", user=request.user)
    messages.success(request, f"Import #{run.pk} queued; this page refreshes its status until it is done.")
    return redirect("import-detail", run_id=run.pk)
