"""The OpenAPI description of the endpoints for pull-request sync runs; registered when the API routes load."""

from fleetui.common import openapi
from runs.github.models import PullRequestSyncRun

SCHEMAS = {
    "PullRequestSyncRun": openapi.closed(
        {
            "id": {"type": "integer"},
            "status": {"enum": PullRequestSyncRun.Status.values},
            "done": {"type": "boolean"},
            "trigger": openapi.STRING,
            "created_at": openapi.DATETIME,
            "started_at": openapi.DATETIME,
            "finished_at": openapi.DATETIME,
            **{name: {"type": "integer"} for name in ("total", "checked", "changed", "not_modified", "errors")},
            "message": openapi.STRING,
        }
    ),
}
PATHS = {
    "/pull-requests/sync": {
        "post": {
            "operationId": "pull_requests_sync",
            "summary": "Refresh pull-request state from GitHub on workers (migration owner or admin)",
            "responses": {
                "202": openapi.json_response("The queued (or running) sync run", openapi.ref("PullRequestSyncRun")),
                **openapi.ERRORS,
                **openapi.FORBIDDEN,
            },
        }
    },
    "/pull-requests/sync/{id}": {
        "get": {
            "operationId": "pull_requests_sync_get",
            "summary": "One pull-request sync run",
            "parameters": [openapi.ID_PARAM],
            "responses": {
                "200": openapi.json_response("The sync run", openapi.ref("PullRequestSyncRun")),
                **openapi.ERRORS,
                **openapi.NOT_FOUND,
            },
        }
    },
}
openapi.register_paths(PATHS, SCHEMAS)
