"""JSON API for nudges: draft per team, send once, list; same conventions as runs.api."""

from django.http import JsonResponse

from notifications import selectors
from notifications.models import Nudge
from notifications.services.nudges import (
    cluster_repo_names,
    nudge_drafts_create,
)
from notifications.services.sending import nudge_send_enqueue
from runs.api import ApiError, api_view, json_body, paginate
from runs.models import Migration
from runs.openapi import (
    ERRORS,
    NOT_FOUND,
    PAGE_PARAMS,
    SLUG_PARAM,
    STRING,
    json_response,
    nullable,
    page_of,
    ref,
    register_paths,
)
from runs.permissions import MIGRATION_OWNER, forbidden_response, user_has_role


def _iso(value) -> str | None:
    return value.isoformat() if value else None


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
        "sent_at": _iso(nudge.sent_at),
        "slack_ts": nudge.slack_ts or None,
        "thread_ts": nudge.thread_ts or None,
        "permalink": nudge.permalink or None,
        "error": nudge.error or None,
        "created_at": _iso(nudge.created_at),
    }


@api_view("POST")
def migration_nudges(request, slug: str):
    if not user_has_role(request.user, MIGRATION_OWNER):
        return forbidden_response(request, (MIGRATION_OWNER,))
    migration = Migration.objects.filter(slug=slug).first()
    if migration is None:
        raise ApiError(404, f"no migration {slug[:100]}")
    data = json_body(request)
    names = None
    if data.get("cluster") is not None:
        if not isinstance(data["cluster"], int) or isinstance(data["cluster"], bool):
            raise ApiError(400, "cluster must be an integer id")
        names = cluster_repo_names(migration=migration, cluster_id=data["cluster"])
        if names is None:
            raise ApiError(404, f"migration {migration.slug} has no cluster {data['cluster']}")
    elif data.get("repos") is not None:
        repos = data["repos"]
        if not isinstance(repos, list) or not all(isinstance(r, str) for r in repos):
            raise ApiError(400, "repos must be a list of owner/name strings")
        names = repos
    result = nudge_drafts_create(migration=migration, user=request.user, repo_names=names)
    return JsonResponse(
        [
            {"id": n.pk, "team": n.team.slug, "channel": n.channel.name if n.channel else None, "text": n.text}
            for n in result.drafts
        ],
        safe=False,
        status=201,
    )


@api_view("POST")
def nudge_send(request, nudge_id: int):
    if not user_has_role(request.user, MIGRATION_OWNER):
        return forbidden_response(request, (MIGRATION_OWNER,))
    nudge = Nudge.objects.select_related("migration", "team", "channel").filter(pk=nudge_id).first()
    if nudge is None:
        raise ApiError(404, f"no nudge {nudge_id}")
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


NUDGE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "migration": STRING,
        "team": STRING,
        "channel": nullable(STRING),
        "channel_id": nullable(STRING),
        "status": {"type": "string", "enum": [s.value for s in Nudge.Status]},
        "text": STRING,
        "sent_by": nullable(STRING),
        "sent_at": nullable({"type": "string", "format": "date-time"}),
        "slack_ts": nullable(STRING),
        "thread_ts": nullable(STRING),
        "permalink": nullable(STRING),
        "error": nullable(STRING),
        "created_at": nullable({"type": "string", "format": "date-time"}),
    },
}
DRAFT_SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "team": STRING, "channel": nullable(STRING), "text": STRING},
}
CONFLICT = {"409": json_response("Already sending, sent or cancelled.", ref("Error"))}

register_paths(
    {
        "/migrations/{slug}/nudges": {
            "post": {
                "summary": "Draft one nudge per owning team for the given repositories, a cluster, or all failing ones",
                "parameters": [SLUG_PARAM],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "repos": {"type": "array", "items": STRING},
                                    "cluster": {"type": "integer"},
                                },
                            }
                        }
                    }
                },
                "responses": {
                    "201": json_response("The drafts", {"type": "array", "items": ref("NudgeDraft")}),
                    **ERRORS,
                    **NOT_FOUND,
                },
            }
        },
        "/nudges/{id}/send": {
            "post": {
                "summary": "Queue a draft for sending (exactly once)",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {"202": json_response("Queued", ref("Nudge")), **ERRORS, **NOT_FOUND, **CONFLICT},
            }
        },
        "/nudges": {
            "get": {
                "summary": "Nudges, newest first",
                "parameters": [{"name": "migration", "in": "query", "schema": STRING}, *PAGE_PARAMS],
                "responses": {"200": json_response("A page of nudges", page_of("Nudge")), **ERRORS},
            }
        },
    },
    {"Nudge": NUDGE_SCHEMA, "NudgeDraft": DRAFT_SCHEMA},
)
