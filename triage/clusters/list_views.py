"""The cluster list of a migration: one line per cluster with its trend, filters in the URL, bulk triage."""

from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.http import HttpResponseForbidden, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from fleetui.common.listing import Column, CountedPaginator, sort_headers
from fleetui.common.sparklines import daily_sparklines
from runs.fleet import selectors as run_selectors
from runs.fleet.models import Migration
from triage.clusters import selectors as cluster_selectors
from triage.clusters.costs import cluster_spends
from triage.clusters.counts import cluster_counts_many
from triage.clusters.models import ClusterKind, FailureCluster
from triage.clusters.services.actions import _UNSET, TriageError, user_can_triage
from triage.clusters.services.bulk import clusters_bulk_merge, clusters_bulk_update, clusters_selected

TREND_DAYS = 14
COLUMNS = [
    Column("Cluster", "title", descending_first=False, css="col-title"),
    Column(f"{TREND_DAYS} days", css="col-trend"),
    Column("Failures", "size", css="num col-count"),
    Column("Repos", "repos", css="num col-count"),
    Column("Cost", css="num col-count"),
    Column("Last seen", "last_seen_at", css="col-when"),
    Column("Status", "status", descending_first=False, css="col-status"),
    Column("Assignee", "assignee", descending_first=False, css="col-who"),
]


class ClusterFilterForm(forms.Form):
    """The cluster list's filters, all in the query string so a filtered view can be shared."""

    status = forms.ChoiceField(choices=[("", "any status"), *FailureCluster.Status.choices], required=False)
    kind = forms.ChoiceField(choices=[("", "any kind"), *ClusterKind.choices], required=False)
    q = forms.CharField(max_length=200, required=False)
    repo = forms.CharField(max_length=300, required=False)
    team = forms.CharField(max_length=200, required=False)
    prompt_rev = forms.IntegerField(min_value=0, required=False)
    new_since = forms.DateField(required=False)
    order = forms.ChoiceField(choices=[(k, k) for k in cluster_selectors.ORDERS], required=False)

    def filters(self) -> dict:
        """The valid filters; an invalid field is dropped so the page still renders."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {
            "status": cleaned.get("status") or "",
            "kind": cleaned.get("kind") or "",
            "search": (cleaned.get("q") or "").strip(),
            "repo": (cleaned.get("repo") or "").strip(),
            "team": (cleaned.get("team") or "").strip(),
            "prompt_rev": cleaned.get("prompt_rev"),
            "new_since": cleaned.get("new_since"),
            "order": cleaned.get("order") or cluster_selectors.DEFAULT_ORDER,
        }


def cluster_list(request, slug: str):
    migration = get_object_or_404(Migration, slug=slug)
    form = ClusterFilterForm(request.GET)
    filters = form.filters()
    new_since = filters["new_since"]
    query = {**filters, "new_since": _start_of(new_since) if new_since else None}
    clusters = cluster_selectors.cluster_list(migration=migration, **query)
    # Status tabs count within every other filter, so they say what each tab would show; they also give the total.
    without_status = cluster_selectors.cluster_list(migration=migration, **{**query, "status": None})
    tabs = {row["status"]: row["n"] for row in without_status.order_by().values("status").annotate(n=Count("id"))}
    matching = tabs.get(filters["status"], 0) if filters["status"] else sum(tabs.values())
    page = CountedPaginator(clusters, settings.PAGE_SIZE, count=matching).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    today = timezone.localdate()
    since = _start_of(today - timedelta(days=TREND_DAYS - 1))
    ids = [c.pk for c in rows]
    kept = cluster_counts_many(cluster_ids=ids)
    counts = cluster_selectors.cluster_daily_counts(cluster_ids=ids, since=since, kept=kept)
    recent = cluster_selectors.cluster_recent_repositories(cluster_ids=ids, kept=kept)
    trends = daily_sparklines(counts, ids, end=today, days=TREND_DAYS)
    costs = cluster_spends(cluster_ids=ids, kept=kept)
    for cluster in rows:
        cluster.cost = costs[cluster.pk]
        cluster.trend = trends[cluster.pk]
        cluster.recent_repos = recent.get(cluster.pk, [])
        cluster.more_repos = max(cluster.repos - len(cluster.recent_repos), 0)
    can_triage = user_can_triage(request.user)
    context = {
        "nav": "migrations",
        "migration": migration,
        "form": form,
        "filters": filters,
        "filtered": any(v for k, v in filters.items() if k != "order"),
        "more_filters": filters["prompt_rev"] is not None or bool(filters["new_since"]),
        "page": page,
        "clusters": rows,
        "headers": sort_headers(request.GET, COLUMNS, filters["order"]),
        "tabs": [(value, label, tabs.get(value, 0)) for value, label in FailureCluster.Status.choices],
        "total": sum(tabs.values()),
        "statuses": FailureCluster.Status.choices,
        "kinds": ClusterKind.choices,
        "teams": run_selectors.team_choices(migration=migration),
        "can_triage": can_triage,
        "assignees": _assignee_choices() if can_triage else [],
        "trend_days": TREND_DAYS,
    }
    return render(request, "triage/cluster_list.html", context)


def _start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _assignee_choices():
    return list(get_user_model().objects.filter(is_active=True).order_by("username").only("id", "username")[:200])


@require_POST
def cluster_bulk(request, slug: str):
    """Set the status or assignee of, or merge, the clusters ticked on the list; back to the same filtered list."""
    migration = get_object_or_404(Migration, slug=slug)
    if not user_can_triage(request.user):
        return HttpResponseForbidden("Only migration owners and admins change clusters.")
    ids = [int(v) for v in request.POST.getlist("clusters") if v.isdigit()]
    action = request.POST.get("action", "")
    try:
        clusters = clusters_selected(migration=migration, ids=ids)
        if not clusters:
            raise TriageError("no cluster was selected")
        if action == "status":
            result = clusters_bulk_update(clusters=clusters, actor=request.user, status=request.POST.get("status"))
            messages.success(request, _changed(result.changed, len(clusters), "status set"))
        elif action == "assign":
            assignee = _assignee(request.POST.get("assignee", ""))
            if assignee is _UNSET:
                raise TriageError("choose who to assign, or no one")
            result = clusters_bulk_update(clusters=clusters, actor=request.user, assignee=assignee)
            messages.success(request, _changed(result.changed, len(clusters), "assigned"))
        elif action == "merge":
            result = clusters_bulk_merge(clusters=clusters, actor=request.user)
            messages.success(request, f"Merged {result.changed + 1} clusters into “{result.merged_into.title[:120]}”.")
        else:
            raise TriageError("choose an action")
    except TriageError as error:
        messages.error(request, f"Not done: {error}.")
    return redirect(_back_to_list(migration, request.POST.get("back", "")))


def _assignee(raw: str):
    if raw == "":
        return _UNSET
    if raw == "-":
        return None
    user = get_user_model().objects.filter(is_active=True, pk=int(raw) if raw.isdigit() else 0).first()
    if user is None:
        raise TriageError("no such active user")
    return user


def _changed(changed: int, selected: int, what: str) -> str:
    same = selected - changed
    return f"{changed} of {selected} clusters {what}" + (f"; {same} already were." if same else ".")


def _back_to_list(migration: Migration, back: str) -> str:
    """The list's own address with the filters it was showing; only its query string is taken from the form."""
    allowed = set(ClusterFilterForm.base_fields) | {"page"}
    kept = QueryDict(mutable=True)
    for key, values in QueryDict(back[:2000]).lists():
        if key in allowed:
            kept.setlist(key, values[:1])
    url = reverse("cluster-list", args=[migration.slug])
    return f"{url}?{kept.urlencode()}" if kept else url
