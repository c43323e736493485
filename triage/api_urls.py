"""Cluster endpoints under /api/, and their OpenAPI description."""

from django.urls import path

from runs.openapi import (
    DATETIME,
    ERRORS,
    NOT_FOUND,
    PAGE_PARAMS,
    SLUG_PARAM,
    STRING,
    json_response,
    nullable,
    page_of,
    ref,
    register_paths,
)
from triage import api
from triage.models import ClusteringRun, ClusterKind, ClusterMember, FailureCluster

urlpatterns = [
    path("migrations/<slug:slug>/clusters", api.migration_clusters, name="api-migration-clusters"),
    path("migrations/<slug:slug>/clusters/rebuild", api.clusters_rebuild, name="api-clusters-rebuild"),
    path("clusters/<int:cluster_id>", api.cluster_detail, name="api-cluster-detail"),
    path("clusters/<int:cluster_id>/merge", api.cluster_merge_view, name="api-cluster-merge"),
    path("clusters/<int:cluster_id>/split", api.cluster_split_view, name="api-cluster-split"),
]

INTEGER = {"type": "integer"}
STATUSES = {"enum": FailureCluster.Status.values}
FORBIDDEN = {"403": {"$ref": "#/components/responses/Forbidden"}}
ID_PARAM = {"name": "id", "in": "path", "required": True, "schema": INTEGER}

SCHEMAS = {
    "Cluster": {
        "type": "object",
        "properties": {
            "id": INTEGER,
            "title": STRING,
            "kind": {"enum": ClusterKind.values},
            "status": STATUSES,
            "size": {"type": "integer", "description": "Failures in the cluster."},
            "repos": INTEGER,
            "signature": STRING,
            "example_snippet": STRING,
            "top_terms": {"type": "array", "items": STRING},
            "agent_failures": {"type": "integer", "description": "Members whose baseline did not fail."},
            "pre_existing": {"type": "integer", "description": "Members whose baseline already failed."},
        },
    },
    "ClusterDetail": {
        "allOf": [
            ref("Cluster"),
            {
                "type": "object",
                "properties": {
                    "migration": STRING,
                    "title_locked": {"type": "boolean"},
                    "notes": STRING,
                    "assignee": nullable(STRING),
                    "first_seen_at": DATETIME,
                    "last_seen_at": DATETIME,
                    "updated_at": DATETIME,
                },
            },
        ]
    },
    "ClusterWithMembers": {
        "allOf": [ref("ClusterDetail"), {"type": "object", "properties": {"members": ref("ClusterMemberPage")}}]
    },
    "ClusterMember": {
        "type": "object",
        "properties": {
            "repo": STRING,
            "trace_id": STRING,
            "snippet": STRING,
            "why": {"enum": ClusterMember.Why.values},
            "score": {"type": "number"},
            "pre_existing": {"type": "boolean"},
            "sticky": {"type": "boolean", "description": "Placed by a person; rebuilds keep it."},
        },
    },
    "ClusterMemberPage": page_of("ClusterMember"),
    "ClusterChange": {
        "type": "object",
        "properties": {
            "status": STATUSES,
            "title": {"type": "string", "description": "Rebuilds keep an edited title."},
            "notes": STRING,
            "assignee": nullable({"type": "string", "description": "Username"}),
        },
    },
    "ClusteringRun": {
        "type": "object",
        "properties": {
            "id": INTEGER,
            "migration": STRING,
            "mode": {"enum": ClusteringRun.Mode.values},
            "status": {"enum": ClusteringRun.Status.values},
            "created_at": DATETIME,
            "started_at": DATETIME,
            "finished_at": DATETIME,
        },
    },
}


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


PATHS = {
    "/migrations/{slug}/clusters": {
        "get": {
            "operationId": "migration_clusters",
            "summary": "A migration's failure clusters, largest first",
            "parameters": [
                SLUG_PARAM,
                {"name": "status", "in": "query", "schema": STATUSES},
                {"name": "kind", "in": "query", "schema": {"enum": ClusterKind.values}},
                {"name": "q", "in": "query", "description": "Text in the title or example", "schema": STRING},
                *PAGE_PARAMS,
            ],
            "responses": {"200": json_response("A page of clusters", page_of("Cluster")), **ERRORS, **NOT_FOUND},
        }
    },
    "/migrations/{slug}/clusters/rebuild": {
        "post": {
            "operationId": "clusters_rebuild",
            "summary": "Recluster the migration's failures on a worker (migration owner or admin)",
            "parameters": [SLUG_PARAM],
            "responses": {
                "202": json_response("The queued clustering run", ref("ClusteringRun")),
                **ERRORS,
                **FORBIDDEN,
                **NOT_FOUND,
            },
        }
    },
    "/clusters/{id}": {
        "get": {
            "operationId": "cluster_get",
            "summary": "One cluster with a page of its members",
            "parameters": [ID_PARAM, *PAGE_PARAMS],
            "responses": {"200": json_response("The cluster", ref("ClusterWithMembers")), **ERRORS, **NOT_FOUND},
        },
        "patch": {
            "operationId": "cluster_update",
            "summary": "Change status, title, notes or assignee (migration owner or admin)",
            "parameters": [ID_PARAM],
            "requestBody": _body(ref("ClusterChange")),
            "responses": {
                "200": json_response("The changed cluster", ref("ClusterWithMembers")),
                **ERRORS,
                **FORBIDDEN,
                **NOT_FOUND,
            },
        },
    },
    "/clusters/{id}/merge": {
        "post": {
            "operationId": "cluster_merge",
            "summary": "Move every member into another cluster and delete this one (kept together on rebuilds)",
            "parameters": [ID_PARAM],
            "requestBody": _body({"type": "object", "required": ["into"], "properties": {"into": INTEGER}}),
            "responses": {
                "200": json_response("The cluster merged into", ref("ClusterDetail")),
                **ERRORS,
                **FORBIDDEN,
                **NOT_FOUND,
            },
        }
    },
    "/clusters/{id}/split": {
        "post": {
            "operationId": "cluster_split",
            "summary": "Move the members with these trace ids into a new cluster (kept there on rebuilds)",
            "parameters": [ID_PARAM],
            "requestBody": _body(
                {
                    "type": "object",
                    "required": ["trace_ids"],
                    "properties": {"trace_ids": {"type": "array", "items": STRING, "minItems": 1}},
                }
            ),
            "responses": {
                "201": json_response("The new cluster", ref("ClusterDetail")),
                **ERRORS,
                **FORBIDDEN,
                **NOT_FOUND,
            },
        }
    },
}

register_paths(PATHS, SCHEMAS)
