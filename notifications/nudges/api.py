"""JSON API for nudges: draft per team, send once, list; same conventions as every API module (fleetui.common.api)."""

from django.http import JsonResponse

from fleetui.common.api import ApiError, api_view, iso, json_body, paginate, string_list
from notifications.nudges import selectors
from notifications.nudges.drafts import cluster_repo_names, nudge_drafts_create
from notifications.nudges.models import Nudge
from notifications.nudges.readiness import reason_counts
from notifications.nudges.sending import nudge_send_enqueue
from runs.fleet.models import Migration
from runs.fleet.ownership import migration_act_or_403

# Repositories named in one request: a whole fleet, yet within one SQL query's parameters.
MAX_REPOS = 5000


def nudge_json(nudge: Nudge) -> dict:
    return {
        "id": nudge.pk,
        "migration": nudge.migration.slug,
        "team": nudge.team.slug,
        "channel": nudge.channel.name if nudge.channel else None,
        "channel_id": nudge.channel.channel_id if nudge.channel else None,
        "status": nudge.status,
        "text": nudge.text,
        "sent_by": nudge.sent_by.get_username() if nudge.sent_by else None,
        "sent_at": iso(nudge.sent_at),
        "slack_ts": nudge.slack_ts or None,
        "thread_ts": nudge.thread_ts or None,
        "permalink": nudge.permalink or None,
        "error": nudge.error or None,
        "created_at": iso(nudge.created_at),
    }


@api_view("POST")
def migration_nudges(request, slug: str):
    migration = Migration.objects.filter(slug=slug).first()
    if migration is None:
        raise ApiError(404, f"no migration {slug[:100]}")
    if (denied := migration_act_or_403(request, migration)) is not None:
        return denied
    data = json_body(request, allowed=("repos", "cluster", "include_unready"))
    include_unready = data.get("include_unready", False)
    if not isinstance(include_unready, bool):
        raise ApiError(400, "include_unready must be true or false")
    names = None
    if data.get("cluster") is not None:
        if not isinstance(data["cluster"], int) or isinstance(data["cluster"], bool):
            raise ApiError(400, "cluster must be an integer id")
        names = cluster_repo_names(migration=migration, cluster_id=data["cluster"])
        if names is None:
            raise ApiError(404, f"migration {migration.slug} has no cluster {data['cluster']}")
    elif data.get("repos") is not None:
        names = string_list(data, "repos", max_items=MAX_REPOS)
    result = nudge_drafts_create(
        migration=migration, user=request.user, repo_names=names, include_unready=include_unready
    )
    return JsonResponse([draft_json(n, result.extended.get(n.pk)) for n in result.drafts], safe=False, status=201)


def draft_json(nudge: Nudge, added: list[int] | None) -> dict:
    """A draft as drafting answers it: `added` is null for a new draft, else the PRs the open draft gained."""
    left_out = [line for line in nudge.lines if line["kind"] == "left_out"]
    return {
        "id": nudge.pk,
        "team": nudge.team.slug,
        "channel": nudge.channel.name if nudge.channel else None,
        "text": nudge.text,
        "pull_requests": sum(1 for line in nudge.lines if line["kind"] == "pr"),
        "added": added,
        "left_out": len(left_out),
        "left_out_reasons": reason_counts(left_out),
    }


@api_view("POST")
def nudge_send(request, nudge_id: int):
    nudge = Nudge.objects.select_related("migration", "team", "channel").filter(pk=nudge_id).first()
    if nudge is None:
        raise ApiError(404, f"no nudge {nudge_id}")
    if (denied := migration_act_or_403(request, nudge.migration)) is not None:
        return denied
    queued, _ = nudge_send_enqueue(nudges=[nudge], user=request.user)
    if not queued:
        nudge.refresh_from_db()
        raise ApiError(409, f"already {nudge.status}" if nudge.status != "cancelled" else "cancelled")
    nudge.refresh_from_db()
    return JsonResponse(nudge_json(nudge), status=202)


@api_view("GET")
def nudges(request):
    migration = None
    if request.GET.get("migration"):
        migration = Migration.objects.filter(slug=request.GET["migration"]).first()
        if migration is None:
            raise ApiError(404, f"no migration {request.GET['migration'][:100]}")
    return JsonResponse(
        paginate(request, selectors.nudge_list(migration=migration), lambda rows: map(nudge_json, rows))
    )
