"""Pages for failure clusters: a cluster with its members and triage actions (the list is in list_views)."""

from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from fleetui.common import charts
from fleetui.common.listing import page_by_ids
from runs.fleet import selectors as run_selectors
from runs.fleet.models import Target
from triage.clusters import selectors as cluster_selectors
from triage.clusters.costs import cluster_costs, cluster_rerun_costs
from triage.clusters.counts import cluster_counts_many
from triage.clusters.models import ClusterCounts, ClusterMember, FailureCluster
from triage.clusters.services.actions import TriageError, cluster_merge, cluster_split, cluster_update, user_can_triage

GROWN_WINDOW = timedelta(days=1)


def clusters_grown_recently(*, limit: int = 10) -> list[FailureCluster]:
    """Clusters that gained most members in the last day, across migrations."""
    return cluster_selectors.clusters_grown_since(since=timezone.now() - GROWN_WINDOW, limit=limit)


def clusters_of_attempts(*, attempt_ids: list[int]) -> dict[int, FailureCluster]:
    """attempt id -> the cluster it is in, with the cluster's title (two queries)."""
    cluster_ids = cluster_selectors.attempt_clusters(attempt_ids=attempt_ids)
    clusters = FailureCluster.objects.only("id", "title", "status").in_bulk(set(cluster_ids.values()))
    return {attempt_id: clusters[cid] for attempt_id, cid in cluster_ids.items() if cid in clusters}


def cluster_detail(request, cluster_id: int):
    cluster = cluster_selectors.cluster_detail(cluster_id=cluster_id)
    if cluster is None:
        raise Http404("No cluster with this id")
    migration = cluster.migration
    team = (request.GET.get("team") or "").strip()[:200]
    members = cluster_selectors.cluster_members(cluster=cluster, team=team or None)
    # The page's members by id first: sorting every member joined to its attempt took most of the page's SQL time.
    page, rows = page_by_ids(members, settings.PAGE_SIZE, count=members.count(), number=request.GET.get("page"))
    attempts_by_repo = dict(
        Target.objects.filter(migration=migration, repository_id__in=[m.repository_id for m in rows]).values_list(
            "repository_id", "attempts_count"
        )
    )
    for member in rows:
        member.attempts = attempts_by_repo.get(member.repository_id, 0)
        prs = list(member.attempt.pull_requests.all())
        member.pr = prs[0] if prs else None
    # Cost, layers, members per day and why they were placed: counted when members move, not per request.
    kept = cluster_counts_many(cluster_ids=[cluster.pk])[cluster.pk]
    context = {
        "nav": "migrations",
        "migration": migration,
        "cluster": cluster,
        "page": page,
        "members": rows,
        "matching": page.paginator.count,
        "team": team,
        "teams": run_selectors.team_choices(migration=migration),
        "timeline": _member_timeline(kept),
        "statuses": FailureCluster.Status.choices,
        "can_triage": user_can_triage(request.user),
        "assignees": _assignee_choices(cluster) if user_can_triage(request.user) else [],
        "merge_targets": _merge_targets(cluster) if user_can_triage(request.user) else [],
        "why_counts": _why_counts(kept),
        "spend": cluster_costs(cluster_ids=[cluster.pk], kept={cluster.pk: kept})[cluster.pk],
        "rerun_costs": cluster_rerun_costs(cluster_id=cluster.pk),
    }
    return render(request, "triage/cluster_detail.html", context)


def _member_timeline(kept: ClusterCounts) -> dict | None:
    """Members per day by when their failing attempt ended, over at least a week."""
    per_day = {date.fromisoformat(day): n for day, n in kept.days.items()}
    if not per_day:
        return None
    end = max(per_day)
    start = min(min(per_day), end - timedelta(days=6))
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    return charts.daily_counts_figure(days, [per_day.get(d, 0) for d in days], name="failures that day")


def _why_counts(kept: ClusterCounts) -> list[tuple[str, int]]:
    labels = dict(ClusterMember.Why.choices)
    rows = sorted(kept.why.items(), key=lambda row: (-row[1], row[0]))
    return [(labels.get(why, why), n) for why, n in rows]


def _assignee_choices(cluster: FailureCluster):
    return list(get_user_model().objects.filter(is_active=True).order_by("username").only("id", "username")[:200])


def _merge_targets(cluster: FailureCluster):
    return list(
        FailureCluster.objects.filter(migration_id=cluster.migration_id, kind=cluster.kind)
        .exclude(pk=cluster.pk)
        .order_by("-size", "id")
        .only("id", "title", "size")[:200]
    )


@require_POST
def cluster_action(request, cluster_id: int):
    """Triage actions from the cluster page: update fields, merge into another cluster, move members out."""
    cluster = get_object_or_404(FailureCluster.objects.select_related("migration"), pk=cluster_id)
    if not user_can_triage(request.user):
        return HttpResponseForbidden("Only migration owners and admins change clusters.")
    action = request.POST.get("action", "")
    try:
        if action == "update":
            _update(request, cluster)
        elif action == "merge":
            if request.POST.get("confirm") != "yes":
                raise TriageError("confirm the merge first")
            into = get_object_or_404(FailureCluster, pk=_int(request.POST.get("into")))
            cluster = cluster_merge(source=cluster, into=into, actor=request.user)
            messages.success(request, "Merged; every member is now in this cluster.")
        elif action == "split":
            repos = request.POST.getlist("repos")
            trace_ids = list(
                cluster.members.filter(repository__full_name__in=repos).values_list("attempt__trace_id", flat=True)
            )
            cluster = cluster_split(cluster=cluster, trace_ids=trace_ids, actor=request.user)
            messages.success(request, f"Moved {len(trace_ids)} members out into this new cluster.")
        else:
            raise TriageError("unknown action")
    except TriageError as error:
        messages.error(request, f"Not done: {error}.")
    return redirect("cluster-detail", cluster_id=cluster.pk)


def _update(request, cluster: FailureCluster) -> None:
    fields: dict = {}
    for name in ("status", "title", "notes"):
        if name in request.POST:
            fields[name] = request.POST[name]
    # The title field is always posted with the notes: only an edited title is a person's title.
    if fields.get("title", "").strip()[:300] == cluster.title:
        del fields["title"]
    if "assignee" in request.POST:
        raw = request.POST["assignee"]
        fields["assignee"] = get_object_or_404(get_user_model(), pk=_int(raw)) if raw else None
    cluster_update(cluster=cluster, actor=request.user, **fields)
    messages.success(request, "Cluster updated.")


def _int(raw) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise Http404("Not a number") from None
