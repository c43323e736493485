"""Pages: a migration's dashboard, an attempt and the activity log (the list pages are in list_views)."""

import hashlib
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from fleetui.common import charts
from runs.dashboards import selectors as dashboards_selectors
from runs.dashboards.counts import migration_counts_many, migration_funnel_current, migrations_with_counts
from runs.fleet import selectors as fleet_selectors
from runs.fleet.models import Migration, RepositoryState


def migration_detail(request, slug: str):
    """The migration dashboard: funnel, burndown, clusters and failure breakdowns."""
    migration = get_object_or_404(migrations_with_counts(), slug=slug)
    # Kept when the last import finished (runs/dashboards/counts.py); the funnel when what it reads last changed.
    counted = migration_counts_many(migrations=[migration], detail=True)[migration.pk]
    summary = counted.summary
    funnel = migration_funnel_current(migration=migration, counted=counted)
    # The header and the donut show the same numbers: the summary's, counted once.
    origins = summary.origins
    clusters = dashboards_selectors.cluster_chart_bars(migration=migration)
    steps = [(stage.label, stage.count, stage.explanation) for stage in funnel.stages]
    days, series = counted.burndown_days, counted.burndown_series
    pass_rates, histogram = counted.verifier_pass_rates, counted.attempts_histogram
    revisions = counted.prompt_revisions
    context = {
        "nav": "migrations",
        "migration": migration,
        "summary": summary,
        "funnel": _figure(charts.funnel_figure, steps) if summary.repos else None,
        "funnel_data": funnel,
        "burndown": _figure(charts.burndown_figure, days, series, dict(RepositoryState.choices)) if days else None,
        "clusters_chart": _figure(charts.cluster_sizes_figure, clusters) if clusters else None,
        "clusters_shown": len(clusters),
        "clusters_total": dashboards_selectors.cluster_count(migration=migration) if clusters else 0,
        "pass_rates": _figure(charts.pass_rate_figure, pass_rates) if pass_rates else None,
        "histogram": _figure(charts.attempts_histogram_figure, histogram) if histogram else None,
        "origins": _figure(charts.pre_existing_figure, agent=origins.agent, pre_existing=origins.pre_existing)
        if origins.total
        else None,
        "origin_counts": origins,
        "revisions": _figure(charts.prompt_revisions_figure, revisions) if revisions else None,
    }
    return render(request, "dashboards/migration_dashboard.html", context)


# A figure is a pure function of its data: built once per distinct data (building one takes Plotly milliseconds).
FIGURE_CACHE_SECONDS = 3600


def _figure(build, *args, **kwargs) -> dict:
    """build(*args, **kwargs), cached by what it is built from."""
    data = repr((build.__name__, args, sorted(kwargs.items())))
    key = f"dashboard-figure:{hashlib.sha256(data.encode()).hexdigest()}"
    figure = cache.get(key)
    if figure is None:
        figure = build(*args, **kwargs)
        cache.set(key, figure, FIGURE_CACHE_SECONDS)
    return figure


def mlflow_trace_url(*, experiment_id: str, trace_id: str) -> str:
    """Link to the trace in MLflow's UI, or "" when no UI address is configured."""
    base = settings.MLFLOW_UI_URL.rstrip("/")
    if not base or not experiment_id:
        return ""
    return (
        f"{base}/#/experiments/{quote(experiment_id, safe='')}/traces?selectedEvaluationId={quote(trace_id, safe='')}"
    )


def attempt_detail(request, trace_id: str):
    attempt = fleet_selectors.attempt_get(trace_id=trace_id)
    if attempt is None:
        raise Http404("No attempt with this trace id")
    verifier_results = list(attempt.verifier_results.all())
    context = {
        "nav": "migrations",
        "attempt": attempt,
        "migration": attempt.migration,
        "verifier_results": verifier_results,
        "judge": fleet_selectors.attempt_judge(attempt),
        "siblings": fleet_selectors.attempt_siblings(attempt=attempt),
        "spans": span_rows(attempt.span_tree, verifier_results),
        "mlflow_url": mlflow_trace_url(experiment_id=attempt.experiment_id, trace_id=attempt.trace_id),
        # The clusters its failures were placed in (verifier failures first, then the judge's) and its pull request.
        "memberships": list(attempt.cluster_memberships.select_related("cluster").order_by("-kind", "cluster_id")),
        "pull_request": attempt.pull_requests.order_by("-id").first(),
    }
    return render(request, "dashboards/attempt_detail.html", context)


def span_rows(span_tree, verifier_results) -> list[dict]:
    """The trace's spans in order, each with its depth and, for verify calls, the verifier result it produced."""
    by_position = {result.position: result for result in verifier_results}
    rows = []
    for node in span_tree if isinstance(span_tree, list) else []:
        if not isinstance(node, dict):
            continue
        depth = node.get("depth") if isinstance(node.get("depth"), int) else 0
        rows.append(
            {
                "name": str(node.get("name", "")),
                "type": str(node.get("type") or ""),
                "status": str(node.get("status") or ""),
                "indent": min(max(depth, 0), 12),
                "duration_ms": node.get("duration_ms"),
                "verifier": by_position.get(node.get("verifier")) if "verifier" in node else None,
                "judge": bool(node.get("judge")),
            }
        )
    return rows


def activity(request):
    """The audit trail: who did what to which object, filterable and shareable by URL."""
    slug = request.GET.get("migration", "")
    migration = get_object_or_404(Migration, slug=slug) if slug else None
    actor = request.GET.get("actor", "")[:200]
    verb = request.GET.get("verb", "")[:100]
    events = fleet_selectors.audit_event_list(migration=migration, actor=actor, verb=verb)
    page = Paginator(events, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav": "activity",
        "page": page,
        "events": page.object_list,
        "migration": migration,
        "migrations": Migration.objects.order_by("slug").only("slug", "title"),
        "actor": actor,
        "verb": verb,
    }
    return render(request, "dashboards/activity.html", context)
