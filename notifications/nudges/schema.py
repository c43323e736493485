"""The OpenAPI description of the endpoints for nudges; registered when the API routes load."""

from fleetui.common import openapi
from notifications.nudges.models import Nudge

NUDGE_SCHEMA = openapi.closed(
    {
        "id": {"type": "integer"},
        "migration": openapi.STRING,
        "team": openapi.STRING,
        "channel": openapi.nullable(openapi.STRING),
        "channel_id": openapi.nullable(openapi.STRING),
        "status": {"type": "string", "enum": [s.value for s in Nudge.Status]},
        "text": openapi.STRING,
        "sent_by": openapi.nullable(openapi.STRING),
        "sent_at": openapi.nullable({"type": "string", "format": "date-time"}),
        "slack_ts": openapi.nullable(openapi.STRING),
        "thread_ts": openapi.nullable(openapi.STRING),
        "permalink": openapi.nullable(openapi.STRING),
        "error": openapi.nullable(openapi.STRING),
        "created_at": openapi.nullable({"type": "string", "format": "date-time"}),
    }
)
DRAFT_SCHEMA = openapi.closed(
    {
        "id": {"type": "integer"},
        "team": openapi.STRING,
        "channel": openapi.nullable(openapi.STRING),
        "text": openapi.STRING,
        "pull_requests": {"type": "integer", "minimum": 1},
        "added": openapi.nullable({"type": "array", "items": {"type": "integer"}}),
        "left_out": {"type": "integer", "minimum": 0},
        "left_out_reasons": {"type": "object", "additionalProperties": {"type": "integer"}},
    }
)
NAMES = {"type": "array", "maxItems": 5000, "items": {"type": "string", "minLength": 1, "maxLength": 300}}
CONFLICT = {"409": openapi.json_response("Already sending, sent or cancelled.", openapi.ref("Error"))}

openapi.register_paths(
    {
        "/migrations/{slug}/nudges": {
            "post": {
                "summary": "Draft one nudge per owning team for the given repositories, a cluster, or all failing ones",
                "description": (
                    "A team's open draft gains the new pull requests (each listed once) instead of being replaced. "
                    "Only pull requests ready to merge are listed (approved by an internal reviewer, not a draft, "
                    "CI green or known to pass) unless include_unready is true; the rest are counted in left_out. "
                    "A team with no pull request to list gets no draft."
                ),
                "parameters": [openapi.SLUG_PARAM],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": openapi.closed(
                                {
                                    "repos": openapi.nullable(NAMES),
                                    "cluster": openapi.nullable({"type": "integer"}),
                                    "include_unready": {"type": "boolean", "default": False},
                                },
                                required=[],
                            )
                        }
                    }
                },
                "responses": {
                    "201": openapi.json_response("The drafts", {"type": "array", "items": openapi.ref("NudgeDraft")}),
                    **openapi.ERRORS,
                    **openapi.FORBIDDEN,
                    **openapi.NOT_FOUND,
                },
            }
        },
        "/nudges/{id}/send": {
            "post": {
                "summary": "Queue a draft for sending (exactly once)",
                "parameters": [openapi.ID_PARAM],
                "responses": {
                    "202": openapi.json_response("Queued", openapi.ref("Nudge")),
                    **openapi.ERRORS,
                    **openapi.FORBIDDEN,
                    **openapi.NOT_FOUND,
                    **CONFLICT,
                },
            }
        },
        "/nudges": {
            "get": {
                "summary": "Nudges, newest first",
                "parameters": [{"name": "migration", "in": "query", "schema": openapi.STRING}, *openapi.PAGE_PARAMS],
                "responses": {
                    "200": openapi.json_response("A page of nudges", openapi.page_of("Nudge")),
                    **openapi.ERRORS,
                    **openapi.NOT_FOUND,
                },
            }
        },
    },
    {"Nudge": NUDGE_SCHEMA, "NudgeDraft": DRAFT_SCHEMA},
)
