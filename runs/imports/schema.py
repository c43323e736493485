"""The OpenAPI description of the import endpoints."""

from fleetui.common import openapi
from runs.imports.models import ImportRun

IMPORT_RUN = {
    "id": {"type": "integer"},
    "status": {"enum": ImportRun.Status.values},
    "done": {"type": "boolean"},
    "trigger": openapi.STRING,
    "requested_by": openapi.nullable(openapi.STRING),
    "created_at": openapi.DATETIME,
    "started_at": openapi.DATETIME,
    "finished_at": openapi.DATETIME,
    **{name: {"type": "integer"} for name in ("seen", "imported", "updated", "skipped", "errors")},
    "watermark_ms": openapi.nullable({"type": "integer", "description": "Latest trace end time read (ms)."}),
    "message": openapi.STRING,
    "url": openapi.STRING,
}
SCHEMAS = {
    "ImportRun": openapi.closed(IMPORT_RUN),
    "ImportRunError": openapi.closed(
        {"trace_id": openapi.STRING, "reason": openapi.STRING, "created_at": openapi.DATETIME}
    ),
    "ImportRunDetail": openapi.closed({**IMPORT_RUN, "error_rows": openapi.ref("ImportRunErrorPage")}),
    "ImportRunErrorPage": openapi.page_of("ImportRunError"),
}

PATHS = {
    "/imports": {
        "get": {
            "operationId": "imports_list",
            "summary": "Import runs, newest first",
            "parameters": openapi.PAGE_PARAMS,
            "responses": {
                "200": openapi.json_response("A page of import runs", openapi.page_of("ImportRun")),
                **openapi.ERRORS,
            },
        },
        "post": {
            "operationId": "imports_start",
            "summary": "Start an import on a worker (migration owner or admin)",
            "responses": {
                "202": openapi.json_response("The queued import run", openapi.ref("ImportRun")),
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "403": {"$ref": "#/components/responses/Forbidden"},
            },
        },
    },
    "/imports/{id}": {
        "get": {
            "operationId": "imports_get",
            "summary": "One import run with a page of its error rows",
            "parameters": [
                openapi.ID_PARAM,
                *openapi.PAGE_PARAMS,
            ],
            "responses": {
                "200": openapi.json_response("The import run", openapi.ref("ImportRunDetail")),
                **openapi.ERRORS,
                **openapi.NOT_FOUND,
            },
        }
    },
}

openapi.register_paths(PATHS, SCHEMAS)
