"""The OpenAPI description of the team inbox endpoints; registered when the API routes load."""

from fleetui.common import openapi
from notifications.teams.selectors import CI_CHOICES, INBOX_SORTS, REVIEW_CHOICES, TEAM_SORTS
from runs.fleet.models import PullRequest


def _sorts(keys) -> list[str]:
    return [*keys, *(f"-{key}" for key in keys)]


NULLABLE_STRING = openapi.nullable(openapi.STRING)
TEAM_SCHEMA = openapi.closed(
    {
        "slug": openapi.STRING,
        "name": openapi.STRING,
        "open_pull_requests": {"type": "integer", "minimum": 0},
        "stale_pull_requests": {"type": "integer", "minimum": 0},
        "oldest_age_days": openapi.nullable({"type": "integer", "minimum": 0}),
        "channel": NULLABLE_STRING,
        "stale_days": {"type": "integer", "minimum": 1, "description": "The team's own threshold, or the default."},
        "digest_enabled": openapi.BOOLEAN,
        "escalation_channel": NULLABLE_STRING,
    }
)
INBOX_PR_SCHEMA = openapi.closed(
    {
        "id": openapi.INTEGER,
        "url": openapi.STRING,
        "number": openapi.nullable(openapi.INTEGER),
        "repository": openapi.STRING,
        "migration": openapi.STRING,
        "state": {"type": "string", "enum": [s.value for s in PullRequest.State]},
        "draft": openapi.nullable(openapi.BOOLEAN),
        "ci": openapi.STRING,
        "review": openapi.STRING,
        "cluster": openapi.nullable(openapi.closed({"id": openapi.INTEGER, "title": openapi.STRING})),
        "age_days": {"type": "integer", "minimum": 0, "description": "Days since the agent opened it."},
        "last_activity_at": openapi.DATETIME,
        "stale": {
            "type": "boolean",
            "description": "No activity (GitHub's updated_at: pushes, reviews, CI, comments) for stale_days days.",
        },
    }
)


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "schema": schema, "description": description}


openapi.register_paths(
    {
        "/teams": {
            "get": {
                "summary": "Teams with their open agent pull requests across migrations",
                "parameters": [
                    _query("q", {"type": "string", "maxLength": 100}, "Part of the team's slug or name."),
                    _query("order", {"type": "string", "enum": _sorts(TEAM_SORTS)}, "Sort key; `-` reverses."),
                    *openapi.PAGE_PARAMS,
                ],
                "responses": {
                    "200": openapi.json_response("A page of teams", openapi.page_of("Team")),
                    **openapi.ERRORS,
                },
            }
        },
        "/teams/{slug}/inbox": {
            "get": {
                "summary": "A team's open agent pull requests in every migration",
                "parameters": [
                    openapi.SLUG_PARAM,
                    _query("migration", {"type": "string", "maxLength": 200}, "Only this migration's (slug)."),
                    _query("ci", {"type": "string", "enum": list(CI_CHOICES)}, "CI state."),
                    _query("review", {"type": "string", "enum": list(REVIEW_CHOICES)}, "Review state."),
                    _query("stale", {"type": "string", "enum": ["true", "false"]}, "true: only stale ones."),
                    _query("order", {"type": "string", "enum": _sorts(INBOX_SORTS)}, "Sort key; `-` reverses."),
                    *openapi.PAGE_PARAMS,
                ],
                "responses": {
                    "200": openapi.json_response(
                        "A page of the team's open agent pull requests",
                        openapi.page_of(
                            "TeamInboxPullRequest",
                            team=openapi.STRING,
                            stale_days={"type": "integer", "minimum": 1},
                        ),
                    ),
                    **openapi.ERRORS,
                    **openapi.NOT_FOUND,
                },
            }
        },
    },
    {"Team": TEAM_SCHEMA, "TeamInboxPullRequest": INBOX_PR_SCHEMA},
)
