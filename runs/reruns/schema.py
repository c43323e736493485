"""The OpenAPI description of the endpoints for rerun batches; registered when the API routes load."""

from fleetui.common import openapi
from runs.reruns.canary_rules import MAX_SIZE
from runs.reruns.models import RerunKind, RerunOutcome, RerunPhase

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
        "canary": {"type": "boolean", "description": "One of the canary's items, which run first."},
        "error": openapi.nullable(openapi.STRING),
        "runner_ref": openapi.nullable(openapi.STRING),
        "source_attempt": openapi.nullable(openapi.STRING),
        "result_attempt": openapi.nullable(openapi.STRING),
    }
)
SUMMARY_PROPERTIES = {
    "id": {"type": "integer"},
    "migration": openapi.STRING,
    "status": {
        "enum": ["queued", "running", "held", "succeeded", "failed", "partial", "cancelled"],
        "description": "held: nothing runs and the rest of a canary batch waits for its verdict or an owner.",
    },
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
    "phase": {
        "enum": list(RerunPhase.values),
        "description": "full for a batch run all at once (never null); a canary batch is canary while its sample "
        "runs, expanded once the rest is dispatched (automatically or by an owner), paused when its sample "
        "fixed too few or landed too much in one new cluster (see paused_reason).",
    },
    "kind": {
        "enum": list(RerunKind.values),
        "description": "infrastructure_retry: started automatically after an import because the repository's "
        "latest attempt failed in the infrastructure layer (FLEETUI_INFRA_RETRY); its items never count in a "
        "cluster's fix rate.",
    },
}
SUMMARY = openapi.closed(SUMMARY_PROPERTIES)
BATCH_PARAM = {"name": "batch_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
NAMES = openapi.nullable(
    {"type": "array", "maxItems": 5000, "items": {"type": "string", "minLength": 1, "maxLength": 300}}
)
SHARE = {"type": "number", "minimum": 0, "maximum": 1}
CANARY_REQUEST = {
    "type": "object",
    "additionalProperties": False,
    "description": "Start as a canary: size repositories (or a fraction of the selection, rounded up) run first, "
    "chosen by the hash of their names and spread over their clusters; the rest are held. A canary as large as "
    "the selection takes all of it. The rest goes out when at least min_fixed of the canary is fixed and no "
    "single new cluster holds more than max_new_cluster_share of it; otherwise the batch pauses.",
    "oneOf": [{"required": ["size", "min_fixed"]}, {"required": ["fraction", "min_fixed"]}],
    "properties": {
        "size": {"type": "integer", "minimum": 1, "maximum": MAX_SIZE},
        "fraction": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "min_fixed": SHARE,
        "max_new_cluster_share": {
            **SHARE,
            "description": "Defaults to FLEETUI_CANARY_MAX_NEW_CLUSTER_SHARE (0.3).",
        },
    },
}
CANARY = openapi.nullable(
    openapi.closed(
        {
            "requested": {"type": "object", "description": 'As asked: {"size": n} or {"fraction": f}.'},
            "size": {"type": "integer", "description": "Items chosen as the canary."},
            "min_fixed": SHARE,
            "max_new_cluster_share": SHARE,
            "settled": {"type": "integer", "description": "Canary items whose outcome is final."},
            "fixed": {"type": "integer"},
            "failing": {"type": "integer", "description": "Canary items still failing, in the same or a new cluster."},
            "held": {"type": "integer", "description": "Items of the batch still held back."},
            "phase_changed_at": openapi.DATETIME,
        }
    )
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
        "canary": openapi.nullable(CANARY_REQUEST),
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
                                "phase": {"enum": list(RerunPhase.values)},
                                "canary": openapi.nullable(
                                    {"type": "integer", "description": "Items chosen as the canary."}
                                ),
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
        "/reruns/{batch_id}/expand": {
            "post": {
                "summary": "Dispatch the held rest of a canary batch now (a paused one too); again changes nothing",
                "parameters": [BATCH_PARAM],
                "responses": {
                    "200": openapi.json_response(
                        "Expanded, or already expanded (expanded false, released 0)",
                        openapi.closed(
                            {
                                "id": {"type": "integer"},
                                "phase": {"enum": list(RerunPhase.values)},
                                "expanded": {"type": "boolean", "description": "This call expanded the batch."},
                                "released": {"type": "integer", "description": "Held items queued by this call."},
                            }
                        ),
                    ),
                    **openapi.ERRORS,
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
                "canary": CANARY,
                "paused_reason": openapi.nullable(
                    {
                        **openapi.STRING,
                        "description": 'Why the canary paused, e.g. "3 of 10 fixed, below 60%"; kept after an '
                        "owner expands it anyway.",
                    }
                ),
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
