"""List pages of the dashboards: the fleet overview and a migration's repository table, one line per row."""

import re
from datetime import timedelta

from django.conf import settings
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from fleetui.common.listing import Column, page_by_ids, sort_headers
from fleetui.common.sparklines import daily_sparklines
from runs.dashboards.counts import migration_counts_many, migrations_with_counts
from runs.fleet import selectors as fleet_selectors
from runs.fleet.forms import RepositoryFilterForm
from runs.fleet.models import Layer, Migration, PullRequest, RepositoryState
from triage.clusters import selectors as cluster_selectors
from triage.clusters.models import ClusterKind

TREND_DAYS = 14
GROWN_WINDOW = timedelta(days=1)


def home(request):
    """The fleet overview: each migration on one line with its progress, failures, open clusters and trend."""
    migrations = list(migrations_with_counts())
    # Kept when the last import finished (runs/dashboards/counts.py), not counted per request.
    counted = migration_counts_many(migrations=migrations, trend=True)
    summaries = [counted[m.pk].summary for m in migrations]
    today = timezone.localdate()
    per_day = {pk: c.failures_by_day for pk, c in counted.items()}
    trends = daily_sparklines(per_day, [m.pk for m in migrations], end=today, days=TREND_DAYS)
    open_clusters = cluster_selectors.open_cluster_counts()
    for summary in summaries:
        summary.trend = trends[summary.migration.pk]
        done = summary.by_state.get(RepositoryState.SUCCEEDED, 0) + summary.by_state.get(RepositoryState.NO_CHANGE, 0)
        summary.done_percent = round(100 * done / summary.repos) if summary.repos else 0
        summary.open_clusters = open_clusters.get(summary.migration.pk, 0)
    context = {
        "summaries": summaries,
        "nav": "migrations",
        "grown": cluster_selectors.clusters_grown_since(since=timezone.now() - GROWN_WINDOW, limit=10),
        "trend_days": TREND_DAYS,
    }
    return render(request, "dashboards/home.html", context)


REPO_COLUMNS = [
    Column("Repository", "repo", descending_first=False, css="col-repo"),
    Column("Team", "team", descending_first=False, css="col-team"),
    Column("State", "state", descending_first=False, css="col-state"),
    Column("Attempts", "attempts", css="num col-count"),
    Column("Cluster", css="col-cluster"),
    Column("Pull request", css="col-pr"),
    Column("Last activity", "last_activity", css="col-when"),
    Column("Latest failure", css="col-failure"),
]


def migration_repos(request, slug: str):
    """A migration's repositories: filters, search, sort, PR state, cluster and selection for bulk actions."""
    migration = get_object_or_404(Migration, slug=slug)
    form = RepositoryFilterForm(request.GET)
    filters = form.filters()
    order = request.GET.get("order", "")
    order = order if fleet_selectors.target_order_is_valid(order) else fleet_selectors.TARGET_DEFAULT_ORDER
    targets = fleet_selectors.target_list(migration=migration, **filters, order=order)
    # State tabs count within every other filter, so each says what it would show; they also give the total.
    others = fleet_selectors.target_list(migration=migration, **{**filters, "state": ""})
    tab_counts = {state: n for (_, state), n in fleet_selectors.state_counts(others).items()}
    matching = tab_counts.get(filters["state"], 0) if filters["state"] else sum(tab_counts.values())
    page, rows = page_by_ids(targets, settings.PAGE_SIZE, count=matching, number=request.GET.get("page"))
    snippets = fleet_selectors.target_snippets(targets=rows)
    prs = fleet_selectors.pull_requests_by_repository(
        migration=migration, repository_ids=[t.repository_id for t in rows]
    )
    memberships = cluster_selectors.attempt_cluster_map(
        attempt_ids=[t.latest_attempt_id for t in rows if t.latest_attempt_id]
    )
    for target in rows:
        target.pr = prs.get(target.repository_id)
        membership = memberships.get(target.latest_attempt_id)
        target.cluster = membership.cluster if membership else None
        _describe_failure(target, snippets.get(target.pk), membership)
    context = {
        "nav": "migrations",
        "migration": migration,
        "form": form,
        "filters": filters,
        "order": order,
        "filtered": any(filters.values()),
        "page": page,
        "rows": rows,
        "headers": sort_headers(request.GET, REPO_COLUMNS, order),
        "tabs": [(value, label, tab_counts.get(value, 0)) for value, label in RepositoryState.choices],
        "total": sum(tab_counts.values()),
        "matching": page.paginator.count,
        "teams": fleet_selectors.team_choices(migration=migration),
        "pr_states": PullRequest.State.choices,
        "layers": Layer.choices,
        "cluster_groups": _cluster_groups(migration, filters["cluster"]),
    }
    return render(request, "dashboards/migration_repos.html", context)


def _describe_failure(target, failed_call, membership) -> None:
    """The latest failure on one line: the line naming its cause when clustering found one, else the snippet; a
    judge's rejection when no verifier failed."""
    target.failure_kind = failed_call.kind if failed_call else ""
    target.failure_text = failed_call.snippet if failed_call else ""
    if membership is not None and membership.kind == ClusterKind.JUDGE and not failed_call:
        target.failure_kind, target.failure_text = "judge", membership.snippet
    line = membership.deciding_line if membership is not None else ""
    target.failure_line = line or telling_line(target.failure_text)


LOG_LEVEL = re.compile(r"^\s*\[(?:ERROR|INFO|WARNING|WARN)\]\s*")
# A CI runner's checkout folder says nothing about the failure: paths read from the repository's root.
WORKSPACE = re.compile(r"(?:file://)?/home/runner/_?work/[^/\s]+/[^/\s]+/")
ERROR_WORDS = re.compile(r"error|fail|cannot|exception|not found|unresolved|expected", re.I)


def telling_line(snippet: str) -> str:
    """The first line of a snippet that says something went wrong, without log-level prefixes or rulers."""
    lines = [WORKSPACE.sub("", LOG_LEVEL.sub("", line)).strip() for line in snippet.splitlines()[:80]]
    lines = [line for line in lines if len(re.sub(r"[\W_]+", "", line)) > 3]
    # A heading such as "COMPILATION ERROR :" announces the cause; the line after it names it.
    found = next(
        (line for line in lines if ERROR_WORDS.search(line) and len(line.split()) > 2 and not line.endswith(":")),
        None,
    )
    return (found or (lines[0] if lines else ""))[:300]


def _cluster_groups(migration: Migration, selected: int | None) -> list[tuple[str, list]]:
    """The cluster picker's options by kind, largest first."""
    labels = dict(ClusterKind.choices)
    groups: dict[str, list] = {}
    for cluster in cluster_selectors.cluster_choices(migration=migration, selected=selected):
        groups.setdefault(cluster.kind, []).append(cluster)
    return [
        (f"{labels.get(kind, kind)} clusters", sorted(found, key=lambda c: (-c.size, c.pk)))
        for kind, found in sorted(groups.items(), key=lambda item: item[0] != ClusterKind.VERIFY)
    ]
