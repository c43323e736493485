"""The OpenAPI 3.1 description of /api/, built as a dict; each domain adds its own with `register_paths`."""

import copy

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


def closed(properties: dict, *, required: list[str] | None = None) -> dict:
    """An object with exactly these properties: every one required unless `required` names fewer, no others allowed."""
    return {
        "type": "object",
        "required": list(properties) if required is None else required,
        "properties": properties,
        "additionalProperties": False,
    }


def page_of(item_schema: str, **extra: dict) -> dict:
    """Schema of a paginated list answer whose results are `item_schema` objects (plus any `extra` properties)."""
    return closed(
        {
            "count": {"type": "integer", "minimum": 0, "description": "Rows matching, over all pages."},
            "limit": {"type": "integer", "minimum": 1},
            "offset": {"type": "integer", "minimum": 0},
            "results": {"type": "array", "items": ref(item_schema)},
            **extra,
        }
    )


def json_response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
}
PAGE_PARAMS = [{"$ref": "#/components/parameters/limit"}, {"$ref": "#/components/parameters/offset"}]
SLUG_PARAM = {
    "name": "slug",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
}
NOT_FOUND = {"404": {"$ref": "#/components/responses/NotFound"}}

STRING = {"type": "string"}
DATETIME = nullable({"type": "string", "format": "date-time"})


FORBIDDEN = {"403": {"$ref": "#/components/responses/Forbidden"}}
ID_PARAM = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}

register_paths(
    {
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {"200": {"description": "OpenAPI 3.1 document"}, "401": ERRORS["401"]},
            }
        },
    },
    {
        "Error": closed({"error": STRING}),
    },
)


def _error_response(description: str) -> dict:
    return json_response(description, ref("Error"))


def openapi_document(*, server_url: str = "/api") -> dict:
    """The full document: this app's paths plus every registered app's."""
    from django.conf import settings

    schemas = copy.deepcopy(_extra_schemas)
    paths = copy.deepcopy(_extra_paths)
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
                "offset": {
                    "name": "offset",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 0, "maximum": settings.API_MAX_OFFSET},
                    "description": "Rows to skip (default 0).",
                },
            },
            "responses": {
                "BadRequest": _error_response(
                    "A parameter or the body was not understood: out of bounds, an unknown field, JSON nested too "
                    "deep, a NUL character"
                ),
                "TooLarge": _error_response("The body is larger than the server accepts"),
                "Unauthorized": _error_response("No session and no valid bearer token"),
                "Forbidden": _error_response("The user lacks the role this needs"),
                "NotFound": _error_response("No such object"),
            },
            "schemas": schemas,
        },
    }
