"""API: failure clusters (under /api/)."""

from django.urls import path

from triage.clusters import (
    api,
    schema,  # noqa: F401  (registers the OpenAPI description)
)
from triage.clusters.fixes import api as fixes_api

urlpatterns = [
    path("migrations/<slug:slug>/clusters", api.migration_clusters, name="api-migration-clusters"),
    path("migrations/<slug:slug>/clusters/rebuild", api.clusters_rebuild, name="api-clusters-rebuild"),
    path("clusters/<int:cluster_id>", api.cluster_detail, name="api-cluster-detail"),
    path("clusters/<int:cluster_id>/merge", api.cluster_merge_view, name="api-cluster-merge"),
    path("clusters/<int:cluster_id>/split", api.cluster_split_view, name="api-cluster-split"),
    path("clusters/<int:cluster_id>/fixes", fixes_api.cluster_fixes_view, name="api-cluster-fixes"),
    path("clusters/<int:cluster_id>/fixes/draft", fixes_api.cluster_fix_draft_view, name="api-cluster-fix-draft"),
]
