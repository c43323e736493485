"""The OpenAPI description of GET /clusters/{id}/fixes; merged into the clusters' description."""

from fleetui.common import openapi

SCHEMAS = {
    "ClusterFix": openapi.closed(
        {
            "repo": {"type": "string", "description": "The repository whose later attempt passed"},
            "migration": {"type": "string", "description": "The migration of that attempt (may be another one)"},
            "trace_id": openapi.STRING,
            "attempt": {"type": "integer", "minimum": 0, "description": "The passing attempt's number"},
            "touches_cause": {
                "type": "boolean",
                "description": "The edits shown name the cause; false when they are simply the attempt's first edits",
            },
            "edits": {
                "type": "array",
                "maxItems": 5,
                "items": openapi.closed(
                    {
                        "file": openapi.STRING,
                        "before": {"type": "string", "description": "Replaced text (capped); empty for a whole write"},
                        "after": {"type": "string", "description": "New text (capped)"},
                    }
                ),
            },
        }
    ),
}

SCHEMAS["ClusterFixDraft"] = openapi.closed(
    {
        "draft": {"type": "string", "description": "One paragraph suggested for the prompt: a draft, not reviewed"},
        "model": openapi.STRING,
        "examples": {"type": "integer", "minimum": 0, "description": "Fixes sent with the cause"},
    }
)

PATHS = {
    "/clusters/{id}/fixes": {
        "get": {
            "operationId": "cluster_fixes",
            "summary": "Repositories where a later attempt passed after this cause, with the edits that fixed it",
            "parameters": [openapi.ID_PARAM],
            "responses": {
                "200": openapi.json_response(
                    "At most five fixes, latest first", {"type": "array", "items": openapi.ref("ClusterFix")}
                ),
                **openapi.ERRORS,
                **openapi.NOT_FOUND,
                "503": openapi.json_response("MLflow could not be read", openapi.ref("Error")),
            },
        }
    },
    "/clusters/{id}/fixes/draft": {
        "post": {
            "operationId": "cluster_fix_draft",
            "summary": "Draft what to add to the prompt from the cause and its fixes (migration owner or admin)",
            "parameters": [openapi.ID_PARAM],
            "responses": {
                "200": openapi.json_response("The draft", openapi.ref("ClusterFixDraft")),
                **openapi.ERRORS,
                **openapi.FORBIDDEN,
                **openapi.NOT_FOUND,
                "502": openapi.json_response("The LLM endpoint failed or timed out", openapi.ref("Error")),
                "503": openapi.json_response("No LLM endpoint is configured", openapi.ref("Error")),
            },
        }
    },
}
