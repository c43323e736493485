"""The OpenAPI description of the endpoints for rerun batches; registered when the API routes load."""

from fleetui.common import openapi
from runs.reruns.models import RerunOutcome

OUTCOME = {
    "enum": list(RerunOutcome.values),
    "description": "What the rerun did, judged by the new attempt: fixed, still_failing (same cluster as before), "
    "new_failure (another cluster or none), runner_failed, no_attempt, cancelled; pending while the runner works "
    "and waiting until the new attempt is imported, linked and clustered.",
}

ITEM = openapi.closed(
    {
        "repo": openapi.STRING,
        "state": {"enum": ["queued", "dispatched", "running", "succeeded", "failed", "cancelled"]},
        "outcome": OUTCOME,
        "tries": {"type": "integer"},
        "error": openapi.nullable(openapi.STRING),
        "runner_ref": openapi.nullable(openapi.STRING),
        "source_attempt": openapi.nullable(openapi.STRING),
        "result_attempt": openapi.nullable(openapi.STRING),
    }
)
SUMMARY_PROPERTIES = {
    "id": {"type": "integer"},
    "migration": openapi.STRING,
    "status": {"enum": ["queued", "running", "succeeded", "failed", "partial", "cancelled"]},
    "done": {"type": "boolean"},
    "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
    "outcomes": openapi.closed({value: {"type": "integer"} for value in RerunOutcome.values}),
    "settled": {"type": "boolean", "description": "No item is pending or waiting: the outcomes are final."},
    "prompt_revision": openapi.nullable({"type": "integer"}),
    "runner": openapi.STRING,
    "source_cluster": openapi.nullable({"type": "integer"}),
    "requested_by": openapi.nullable(openapi.STRING),
    "created_at": openapi.DATETIME,
    "finished_at": openapi.DATETIME,
    "import_run": openapi.nullable({"type": "integer"}),
}
SUMMARY = openapi.closed(SUMMARY_PROPERTIES)
BATCH_PARAM = {"name": "batch_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
NAMES = openapi.nullable(
    {"type": "array", "maxItems": 5000, "items": {"type": "string", "minLength": 1, "maxLength": 300}}
)
SELECTION = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "repos": NAMES,
        "cluster": openapi.nullable({"type": "integer"}),
        "exclude": NAMES,
        "prompt": openapi.nullable(
            {"type": "string", "description": "Edited prompt; a new revision unless the text is unchanged."}
        ),
        "include_pre_existing": {
            "type": "boolean",
            "default": False,
            "description": "Also rerun repositories whose baseline already failed (pre-existing failures). "
            "Left out by default, for a cluster as for named repositories, as on the rerun page; "
            "each one left out is listed in `skipped` with its reason.",
        },
    },
}
OWNER_ONLY = {"403": openapi.json_response("Needs an owner of the migration (or an admin)", openapi.ref("Error"))}

openapi.register_paths(
    {
        "/migrations/{slug}/reruns": {
            "post": {
                "summary": "Rerun selected failed repositories",
                "parameters": [openapi.SLUG_PARAM],
                "requestBody": {"content": {"application/json": {"schema": SELECTION}}},
                "responses": {
                    "201": openapi.json_response(
                        "The batch was created",
                        openapi.closed(
                            {
                                "id": {"type": "integer"},
                                "items": {"type": "integer"},
                                "skipped": {"type": "array", "items": {"type": "object"}},
                                "prompt_revision": openapi.nullable({"type": "integer"}),
                                "url": openapi.STRING,
                            }
                        ),
                    ),
                    **openapi.ERRORS,
                    **OWNER_ONLY,
                    **openapi.NOT_FOUND,
                },
            }
        },
        "/reruns": {
            "get": {
                "summary": "Rerun batches, newest first",
                "parameters": openapi.PAGE_PARAMS,
                "responses": {
                    "200": openapi.json_response("A page of batches", openapi.page_of("RerunSummary")),
                    **openapi.ERRORS,
                },
            }
        },
        "/reruns/{batch_id}": {
            "get": {
                "summary": "A rerun batch: counts, items and before/after per cluster",
                "parameters": [BATCH_PARAM],
                "responses": {
                    "200": openapi.json_response("The batch", openapi.ref("RerunBatch")),
                    **openapi.ERRORS,
                    **openapi.NOT_FOUND,
                },
            }
        },
        "/reruns/{batch_id}/cancel": {
            "post": {
                "summary": "Cancel the items not yet dispatched",
                "parameters": [BATCH_PARAM],
                "responses": {
                    "200": openapi.json_response(
                        "Cancelled", openapi.closed({"id": {"type": "integer"}, "cancelled": {"type": "integer"}})
                    ),
                    **OWNER_ONLY,
                    **openapi.NOT_FOUND,
                },
            }
        },
        "/reruns/{batch_id}/retry-failed": {
            "post": {
                "summary": "Dispatch the failed items again",
                "parameters": [BATCH_PARAM],
                "responses": {
                    "200": openapi.json_response(
                        "Queued again", openapi.closed({"id": {"type": "integer"}, "retried": {"type": "integer"}})
                    ),
                    **OWNER_ONLY,
                    **openapi.NOT_FOUND,
                },
            }
        },
        "/reruns/callback": {
            "post": {
                "summary": "A runner service reports a run (signed with X-Fleetui-Signature)",
                "responses": {"200": openapi.json_response("Applied or ignored", {"type": "object"}), **openapi.ERRORS},
            }
        },
    },
    {
        "RerunSummary": SUMMARY,
        "RerunBatch": openapi.closed(
            {
                **SUMMARY_PROPERTIES,
                "items": {"type": "array", "items": ITEM},
                "skipped": {"type": "array", "items": {"type": "object"}},
                "still_failing": {
                    "type": "array",
                    "items": openapi.STRING,
                    "description": "Repositories whose new attempt still fails, pre-existing failures left out.",
                },
                "before_after": {"type": "array", "items": {"type": "object"}},
            }
        ),
    },
)
