"""The OpenAPI 3.1 description of /api/, built as a dict; other apps add theirs with `register_paths`."""

import copy

from runs.models import ImportRun, Outcome, Phase, PullRequest, RepositoryState, Verdict

_extra_paths: dict[str, dict] = {}
_extra_schemas: dict[str, dict] = {}


def register_paths(paths: dict, schemas: dict) -> None:
    """Add another app's paths (keys relative to /api, e.g. "/clusters") and component schemas."""
    _extra_paths.update(paths)
    _extra_schemas.update(schemas)


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    return {"oneOf": [schema, {"type": "null"}]}


def page_of(item_schema: str) -> dict:
    """Schema of a paginated list answer whose results are `item_schema` objects."""
    return {
        "type": "object",
        "required": ["count", "limit", "offset", "results"],
        "properties": {
            "count": {"type": "integer", "description": "Rows matching, over all pages."},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "results": {"type": "array", "items": ref(item_schema)},
        },
    }


def json_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
}
PAGE_PARAMS = [{"$ref": "#/components/parameters/limit"}, {"$ref": "#/components/parameters/offset"}]
SLUG_PARAM = {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}
NOT_FOUND = {"404": {"$ref": "#/components/responses/NotFound"}}

STRING = {"type": "string"}
DATETIME = nullable({"type": "string", "format": "date-time"})

SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": STRING}},
    "MigrationSummary": {
        "type": "object",
        "properties": {
            "slug": STRING,
            "title": STRING,
            "repos": {"type": "integer"},
            "attempts": {"type": "integer"},
            "pre_existing": {"type": "integer", "description": "Repositories whose baseline already failed."},
            "by_state": {
                "type": "object",
                "properties": {state: {"type": "integer"} for state in RepositoryState.values},
            },
        },
    },
    "PullRequest": {
        "type": "object",
        "properties": {
            "url": {"type": "string", "format": "uri"},
            "number": nullable({"type": "integer"}),
            "state": {"enum": PullRequest.State.values},
            "draft": nullable({"type": "boolean"}),
            "checks": nullable({"enum": ["success", "failure", "pending"]}),
            "review": nullable(STRING),
            "updated_at": DATETIME,
        },
    },
    "Repo": {
        "type": "object",
        "properties": {
            "repo": {"type": "string", "description": "owner/name"},
            "team": nullable(STRING),
            "state": {"enum": RepositoryState.values},
            "pre_existing": {"type": "boolean"},
            "attempts": {"type": "integer"},
            "last_trace_id": nullable(STRING),
            "pr": nullable(ref("PullRequest")),
        },
    },
    "VerifierCall": {
        "type": "object",
        "properties": {"verifier": STRING, "passed": {"type": "boolean"}, "snippet": STRING},
    },
    "Judge": {"type": "object", "properties": {"verdict": {"enum": Verdict.values}, "rationale": STRING}},
    "Attempt": {
        "type": "object",
        "properties": {
            "trace_id": STRING,
            "repo": STRING,
            "attempt": {"type": "integer"},
            "phase": {"enum": Phase.values},
            "outcome": {"enum": Outcome.values},
            "prompt_rev": nullable({"type": "integer"}),
            "started_at": DATETIME,
            "ended_at": DATETIME,
            "verifiers": {"type": "array", "items": ref("VerifierCall")},
            "judge": nullable(ref("Judge")),
        },
    },
    "ImportRun": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "status": {"enum": ImportRun.Status.values},
            "done": {"type": "boolean"},
            "trigger": STRING,
            "requested_by": nullable(STRING),
            "created_at": DATETIME,
            "started_at": DATETIME,
            "finished_at": DATETIME,
            **{name: {"type": "integer"} for name in ("seen", "imported", "updated", "skipped", "errors")},
            "watermark_ms": nullable({"type": "integer", "description": "Latest trace end time read (ms)."}),
            "message": STRING,
            "url": STRING,
        },
    },
    "ImportRunError": {
        "type": "object",
        "properties": {"trace_id": STRING, "reason": STRING, "created_at": DATETIME},
    },
    "ImportRunDetail": {
        "allOf": [ref("ImportRun"), {"type": "object", "properties": {"error_rows": ref("ImportRunErrorPage")}}]
    },
    "ImportRunErrorPage": page_of("ImportRunError"),
}

PATHS = {
    "/migrations": {
        "get": {
            "operationId": "migrations_list",
            "summary": "Migrations with repository counts by state",
            "parameters": PAGE_PARAMS,
            "responses": {"200": json_response("A page of migrations", page_of("MigrationSummary")), **ERRORS},
        }
    },
    "/migrations/{slug}/repos": {
        "get": {
            "operationId": "migration_repos",
            "summary": "A migration's repositories with state, attempts and pull request",
            "parameters": [
                SLUG_PARAM,
                {"name": "state", "in": "query", "schema": {"enum": RepositoryState.values}},
                {"name": "team", "in": "query", "description": "Team slug, or - for no team", "schema": STRING},
                *PAGE_PARAMS,
            ],
            "responses": {"200": json_response("A page of repositories", page_of("Repo")), **ERRORS, **NOT_FOUND},
        }
    },
    "/migrations/{slug}/attempts": {
        "get": {
            "operationId": "migration_attempts",
            "summary": "A migration's attempts with verifier calls and judge verdict",
            "parameters": [
                SLUG_PARAM,
                {"name": "repo", "in": "query", "description": "Repository owner/name", "schema": STRING},
                *PAGE_PARAMS,
            ],
            "responses": {"200": json_response("A page of attempts", page_of("Attempt")), **ERRORS, **NOT_FOUND},
        }
    },
    "/imports": {
        "get": {
            "operationId": "imports_list",
            "summary": "Import runs, newest first",
            "parameters": PAGE_PARAMS,
            "responses": {"200": json_response("A page of import runs", page_of("ImportRun")), **ERRORS},
        },
        "post": {
            "operationId": "imports_start",
            "summary": "Start an import on a worker (migration owner or admin)",
            "responses": {
                "202": json_response("The queued import run", ref("ImportRun")),
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
                {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
                *PAGE_PARAMS,
            ],
            "responses": {"200": json_response("The import run", ref("ImportRunDetail")), **ERRORS, **NOT_FOUND},
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {"200": {"description": "OpenAPI 3.1 document"}, "401": ERRORS["401"]},
        }
    },
}


def _error_response(description: str) -> dict:
    return json_response(description, ref("Error"))


def openapi_document(*, server_url: str = "/api") -> dict:
    """The full document: this app's paths plus every registered app's."""
    from django.conf import settings

    schemas = {**copy.deepcopy(SCHEMAS), **copy.deepcopy(_extra_schemas)}
    paths = {**copy.deepcopy(PATHS), **copy.deepcopy(_extra_paths)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "fleetui API",
            "version": "1",
            "description": "Read migrations, repositories, attempts and imports; start imports. "
            "Lists take `limit` and `offset` and answer `{count, limit, offset, results}`.",
        },
        "servers": [{"url": server_url}],
        "security": [{"bearerAuth": []}, {"sessionAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `manage.py create_api_token <username>`.",
                },
                "sessionAuth": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
            },
            "parameters": {
                "limit": {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": settings.API_MAX_PAGE_SIZE},
                    "description": f"Rows per page (default {settings.API_PAGE_SIZE}).",
                },
                "offset": {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
            },
            "responses": {
                "BadRequest": _error_response("A parameter was not understood"),
                "Unauthorized": _error_response("No session and no valid bearer token"),
                "Forbidden": _error_response("The user lacks the role this needs"),
                "NotFound": _error_response("No such object"),
            },
            "schemas": schemas,
        },
    }
