"""JSON API for failure clusters: list, detail with members, triage changes, merge, split and rebuild."""

from django.contrib.auth import get_user_model
from django.http import JsonResponse

from fleetui.common.api import ApiError, api_view, iso, json_body, paginate, string_list
from fleetui.common.roles import MIGRATION_OWNER, forbidden_response
from runs.fleet.api import migration_or_404
from triage.clusters import selectors
from triage.clusters.costs import cluster_costs, cluster_rerun_costs
from triage.clusters.models import ClusteringRun, ClusterKind, ClusterMember, FailureCluster
from triage.clusters.services import (
    TriageError,
    cluster_merge,
    cluster_rebuild_request,
    cluster_split,
    cluster_update,
    user_can_triage,
)

MAX_SPLIT_TRACE_IDS = 5000


def cluster_json(cluster: FailureCluster) -> dict:
    return {
        "id": cluster.pk,
        "title": cluster.title,
        "kind": cluster.kind,
        "status": cluster.status,
        "size": cluster.size,
        "repos": cluster.repos,
        "signature": cluster.signature,
        "example_snippet": cluster.example_snippet,
        "top_terms": cluster.top_terms,
        "agent_failures": cluster.agent_failures,
        "pre_existing": cluster.pre_existing_failures,
    }


def cluster_rows_json(rows: list[FailureCluster]) -> list[dict]:
    """A page of clusters, each with what it cost so far and how often reruns fixed it."""
    costs = cluster_costs(cluster_ids=[c.pk for c in rows])
    return [{**cluster_json(c), **costs[c.pk]} for c in rows]


def cluster_detail_json(cluster: FailureCluster) -> dict:
    return {
        **cluster_json(cluster),
        "migration": cluster.migration.slug,
        "title_locked": cluster.title_locked,
        "notes": cluster.notes,
        "assignee": cluster.assignee.get_username() if cluster.assignee else None,
        "first_seen_at": iso(cluster.first_seen_at),
        "last_seen_at": iso(cluster.last_seen_at),
        "updated_at": iso(cluster.updated_at),
    }


def member_json(member: ClusterMember) -> dict:
    return {
        "repo": member.repository.full_name,
        "trace_id": member.attempt.trace_id,
        "snippet": member.snippet,
        "deciding_line": member.deciding_line,
        "why": member.why,
        "score": member.score,
        "pre_existing": member.pre_existing,
        "sticky": member.sticky,
    }


def run_json(run: ClusteringRun) -> dict:
    return {
        "id": run.pk,
        "migration": run.migration.slug,
        "mode": run.mode,
        "status": run.status,
        "created_at": iso(run.created_at),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
    }


def _cluster_or_404(cluster_id: int) -> FailureCluster:
    cluster = selectors.cluster_detail(cluster_id=cluster_id)
    if cluster is None:
        raise ApiError(404, f"no cluster {cluster_id}")
    return cluster


def _string(data: dict, name: str) -> str | None:
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, f"{name} must be a string")
    return value


@api_view("GET")
def migration_clusters(request, slug: str):
    migration = migration_or_404(slug)
    status = request.GET.get("status", "").strip()
    kind = request.GET.get("kind", "").strip()
    if status and status not in FailureCluster.Status.values:
        raise ApiError(400, f"unknown status {status[:40]!r}; one of {', '.join(FailureCluster.Status.values)}")
    if kind and kind not in ClusterKind.values:
        raise ApiError(400, f"unknown kind {kind[:40]!r}; one of {', '.join(ClusterKind.values)}")
    order = request.GET.get("order", "") or selectors.DEFAULT_ORDER
    if order not in selectors.ORDERS:
        raise ApiError(400, f"unknown order {order[:40]!r}; one of {', '.join(selectors.ORDERS)}")
    clusters = selectors.cluster_list(
        migration=migration,
        status=status or None,
        kind=kind or None,
        search=request.GET.get("q", "")[:200],
        repo=request.GET.get("repo", "")[:300],
        order=order,
    )
    return JsonResponse(paginate(request, clusters, cluster_rows_json))


@api_view("GET", "PATCH")
def cluster_detail(request, cluster_id: int):
    cluster = _cluster_or_404(cluster_id)
    if request.method == "PATCH":
        if not user_can_triage(request.user):
            return forbidden_response(request, (MIGRATION_OWNER,))
        data = json_body(request)
        unknown = set(data) - {"status", "title", "notes", "assignee"}
        if unknown:
            raise ApiError(400, f"cannot change {', '.join(sorted(unknown))[:200]}")
        fields = {name: _string(data, name) for name in ("status", "title", "notes")}
        if "assignee" in data:
            fields["assignee"] = _assignee(data["assignee"])
        try:
            cluster = cluster_update(cluster=cluster, actor=request.user, **fields)
        except TriageError as exc:
            raise ApiError(400, str(exc)) from None
    members = paginate(request, selectors.cluster_members(cluster=cluster), lambda rows: map(member_json, rows))
    reruns = [rerun_cost_json(rerun) for rerun in cluster_rerun_costs(cluster_id=cluster.pk)]
    spend = cluster_costs(cluster_ids=[cluster.pk])[cluster.pk]
    return JsonResponse({**cluster_detail_json(cluster), **spend, "reruns": reruns, "members": members})


def rerun_cost_json(rerun: dict) -> dict:
    return {
        "id": rerun["batch_id"],
        "created_at": iso(rerun["created_at"]),
        "infrastructure_retry": rerun["infrastructure_retry"],
        "items": rerun["items"],
        "fixed": rerun["fixed"],
        "ended": rerun["ended"],
        "usd": None if rerun["usd"] is None else float(round(rerun["usd"], 6)),
        "tokens": rerun["tokens"],
    }


def _assignee(username):
    if username is None or username == "":
        return None
    if not isinstance(username, str):
        raise ApiError(400, "assignee must be a username or null")
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise ApiError(400, f"no active user {username[:150]!r}")
    return user


@api_view("POST")
def cluster_merge_view(request, cluster_id: int):
    source = _cluster_or_404(cluster_id)
    if not user_can_triage(request.user):
        return forbidden_response(request, (MIGRATION_OWNER,))
    into_id = json_body(request, allowed=("into",)).get("into")
    if not isinstance(into_id, int) or isinstance(into_id, bool):
        raise ApiError(400, "into must be the id of the cluster to merge into")
    into = _cluster_or_404(into_id)
    try:
        merged = cluster_merge(source=source, into=into, actor=request.user)
    except TriageError as exc:
        raise ApiError(400, str(exc)) from None
    return JsonResponse(cluster_detail_json(merged))


@api_view("POST")
def cluster_split_view(request, cluster_id: int):
    cluster = _cluster_or_404(cluster_id)
    if not user_can_triage(request.user):
        return forbidden_response(request, (MIGRATION_OWNER,))
    trace_ids = string_list(json_body(request, allowed=("trace_ids",)), "trace_ids", max_items=MAX_SPLIT_TRACE_IDS)
    if not trace_ids:
        raise ApiError(400, "trace_ids must be a non-empty list of trace ids")
    try:
        new = cluster_split(cluster=cluster, trace_ids=trace_ids, actor=request.user)
    except TriageError as exc:
        raise ApiError(400, str(exc)) from None
    return JsonResponse(cluster_detail_json(new), status=201)


@api_view("POST")
def clusters_rebuild(request, slug: str):
    migration = migration_or_404(slug)
    if not user_can_triage(request.user):
        return forbidden_response(request, (MIGRATION_OWNER,))
    run = cluster_rebuild_request(migration=migration, user=request.user)
    return JsonResponse(run_json(run), status=202)
