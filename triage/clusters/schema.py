"""The OpenAPI description of the endpoints for failure clusters; registered when the API routes load."""

from fleetui.common import openapi
from triage.clusters.fixes import schema as fixes_schema
from triage.clusters.models import ClusteringRun, ClusterKind, ClusterMember, FailureCluster
from triage.clusters.selectors import ORDERS

INTEGER = {"type": "integer"}
STATUSES = {"enum": FailureCluster.Status.values}

CLUSTER = {
    "id": INTEGER,
    "title": openapi.STRING,
    "kind": {"enum": ClusterKind.values},
    "status": STATUSES,
    "size": {"type": "integer", "description": "Failures in the cluster."},
    "repos": INTEGER,
    "signature": openapi.STRING,
    "example_snippet": openapi.STRING,
    "top_terms": {"type": "array", "items": openapi.STRING},
    "agent_failures": {"type": "integer", "description": "Members whose baseline did not fail."},
    "pre_existing": {"type": "integer", "description": "Members whose baseline already failed."},
}
NUMBER = {"type": "number"}
CLUSTER_COST = {
    "cost": openapi.closed(
        {
            "usd": openapi.nullable(
                {"type": "number", "description": "Recorded costs, tokens priced where none was recorded; null if none"}
            ),
            "tokens": {"type": "integer", "description": "Input and output tokens"},
            "agent_seconds": NUMBER,
        },
        required=None,
    ),
    "fix_rate": openapi.nullable(
        {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "Share of ended rerun items from this cluster that were fixed; null before any rerun",
        }
    ),
    "layer": openapi.nullable(
        {
            "enum": ["pre-existing", "infrastructure", "agent", "unverifiable", "verified"],
            "description": "The layer most of its members' attempts are in; null for an empty cluster",
        }
    ),
    "layers": {
        "type": "object",
        "additionalProperties": {"type": "integer"},
        "description": "Members per layer of their attempt",
    },
}
CLUSTER_DETAIL = {
    **CLUSTER,
    "migration": openapi.STRING,
    "title_locked": {"type": "boolean"},
    "notes": openapi.STRING,
    "assignee": openapi.nullable(openapi.STRING),
    "first_seen_at": openapi.DATETIME,
    "last_seen_at": openapi.DATETIME,
    "updated_at": openapi.DATETIME,
}

SCHEMAS = {
    "Cluster": openapi.closed(CLUSTER),
    "ClusterWithCost": openapi.closed({**CLUSTER, **CLUSTER_COST}),
    "ClusterDetail": openapi.closed(CLUSTER_DETAIL),
    "ClusterWithMembers": openapi.closed(
        {
            **CLUSTER_DETAIL,
            **CLUSTER_COST,
            "reruns": {"type": "array", "items": openapi.ref("ClusterRerunCost")},
            "members": openapi.ref("ClusterMemberPage"),
        }
    ),
    "ClusterRerunCost": openapi.closed(
        {
            "id": {"type": "integer", "description": "The rerun batch"},
            "created_at": openapi.DATETIME,
            "infrastructure_retry": {"type": "boolean", "description": "An automatic retry; not in the fix rate"},
            "items": {"type": "integer", "description": "Its repositories from this cluster"},
            "fixed": {"type": "integer"},
            "ended": {"type": "integer"},
            "usd": openapi.nullable({"type": "number", "description": "What its new attempts cost; null if unknown"}),
            "tokens": {"type": "integer"},
        }
    ),
    "ClusterMember": openapi.closed(
        {
            "repo": openapi.STRING,
            "trace_id": openapi.STRING,
            "snippet": openapi.STRING,
            "why": {"enum": ClusterMember.Why.values},
            "score": {"type": "number"},
            "pre_existing": {"type": "boolean"},
            "sticky": {"type": "boolean", "description": "Placed by a person; rebuilds keep it."},
        }
    ),
    "ClusterMemberPage": openapi.page_of("ClusterMember"),
    "ClusterChange": openapi.closed(
        {
            "status": openapi.nullable({"type": "string", "enum": FailureCluster.Status.values}),
            "title": openapi.nullable(
                {"type": "string", "pattern": "\\S", "description": "Rebuilds keep an edited title."}
            ),
            "notes": openapi.nullable(openapi.STRING),
            "assignee": openapi.nullable({"type": "string", "description": "Username of an active user"}),
        },
        required=[],
    ),
    "ClusteringRun": openapi.closed(
        {
            "id": INTEGER,
            "migration": openapi.STRING,
            "mode": {"enum": ClusteringRun.Mode.values},
            "status": {"enum": ClusteringRun.Status.values},
            "created_at": openapi.DATETIME,
            "started_at": openapi.DATETIME,
            "finished_at": openapi.DATETIME,
        }
    ),
}


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


PATHS = {
    "/migrations/{slug}/clusters": {
        "get": {
            "operationId": "migration_clusters",
            "summary": "A migration's failure clusters, largest first",
            "parameters": [
                openapi.SLUG_PARAM,
                {"name": "status", "in": "query", "schema": {"type": "string", "enum": FailureCluster.Status.values}},
                {"name": "kind", "in": "query", "schema": {"type": "string", "enum": ClusterKind.values}},
                {
                    "name": "q",
                    "in": "query",
                    "description": "Failure text: in the title, the example or a member's failure",
                    "schema": openapi.STRING,
                },
                {
                    "name": "repo",
                    "in": "query",
                    "description": "Text in the owner/name of a member's repository (any case)",
                    "schema": openapi.STRING,
                },
                {
                    "name": "order",
                    "in": "query",
                    "description": "Sort key, - first for descending (default -size, largest first)",
                    "schema": {"type": "string", "enum": list(ORDERS)},
                },
                *openapi.PAGE_PARAMS,
            ],
            "responses": {
                "200": openapi.json_response("A page of clusters", openapi.page_of("ClusterWithCost")),
                **openapi.ERRORS,
                **openapi.NOT_FOUND,
            },
        }
    },
    "/migrations/{slug}/clusters/rebuild": {
        "post": {
            "operationId": "clusters_rebuild",
            "summary": "Recluster the migration's failures on a worker (migration owner or admin)",
            "parameters": [openapi.SLUG_PARAM],
            "responses": {
                "202": openapi.json_response("The queued clustering run", openapi.ref("ClusteringRun")),
                **openapi.ERRORS,
                **openapi.FORBIDDEN,
                **openapi.NOT_FOUND,
            },
        }
    },
    "/clusters/{id}": {
        "get": {
            "operationId": "cluster_get",
            "summary": "One cluster with a page of its members",
            "parameters": [openapi.ID_PARAM, *openapi.PAGE_PARAMS],
            "responses": {
                "200": openapi.json_response("The cluster", openapi.ref("ClusterWithMembers")),
                **openapi.ERRORS,
                **openapi.NOT_FOUND,
            },
        },
        "patch": {
            "operationId": "cluster_update",
            "summary": "Change status, title, notes or assignee (migration owner or admin)",
            "parameters": [openapi.ID_PARAM],
            "requestBody": _body(openapi.ref("ClusterChange")),
            "responses": {
                "200": openapi.json_response("The changed cluster", openapi.ref("ClusterWithMembers")),
                **openapi.ERRORS,
                **openapi.FORBIDDEN,
                **openapi.NOT_FOUND,
            },
        },
    },
    "/clusters/{id}/merge": {
        "post": {
            "operationId": "cluster_merge",
            "summary": "Move every member into another cluster and delete this one (kept together on rebuilds)",
            "parameters": [openapi.ID_PARAM],
            "requestBody": _body(openapi.closed({"into": INTEGER})),
            "responses": {
                "200": openapi.json_response("The cluster merged into", openapi.ref("ClusterDetail")),
                **openapi.ERRORS,
                **openapi.FORBIDDEN,
                **openapi.NOT_FOUND,
            },
        }
    },
    "/clusters/{id}/split": {
        "post": {
            "operationId": "cluster_split",
            "summary": "Move the members with these trace ids into a new cluster (kept there on rebuilds)",
            "parameters": [openapi.ID_PARAM],
            "requestBody": _body(
                openapi.closed(
                    {
                        "trace_ids": {
                            "type": "array",
                            "items": {"type": "string", "minLength": 1, "maxLength": 300},
                            "minItems": 1,
                            "maxItems": 5000,
                        }
                    }
                )
            ),
            "responses": {
                "201": openapi.json_response("The new cluster", openapi.ref("ClusterDetail")),
                **openapi.ERRORS,
                **openapi.FORBIDDEN,
                **openapi.NOT_FOUND,
            },
        }
    },
}

# How a cluster was fixed elsewhere is described next to its handler.
PATHS.update(fixes_schema.PATHS)
SCHEMAS.update(fixes_schema.SCHEMAS)

openapi.register_paths(PATHS, SCHEMAS)
