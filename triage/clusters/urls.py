"""Failure-cluster pages."""

from django.urls import path

from triage.clusters import list_views, views
from triage.clusters.fixes import views as fixes_views

urlpatterns = [
    path("migrations/<slug:slug>/clusters/", list_views.cluster_list, name="cluster-list"),
    path("migrations/<slug:slug>/clusters/bulk/", list_views.cluster_bulk, name="cluster-bulk"),
    path("clusters/<int:cluster_id>/", views.cluster_detail, name="cluster-detail"),
    path("clusters/<int:cluster_id>/action/", views.cluster_action, name="cluster-action"),
    path("clusters/<int:cluster_id>/fixes/", fixes_views.cluster_fixes_section, name="cluster-fixes"),
    path("clusters/<int:cluster_id>/fixes/draft/", fixes_views.cluster_fix_draft, name="cluster-fix-draft"),
]
