"""Failure-cluster pages."""

from django.urls import path

from triage.clusters import views

urlpatterns = [
    path("migrations/<slug:slug>/clusters/", views.cluster_list, name="cluster-list"),
    path("clusters/<int:cluster_id>/", views.cluster_detail, name="cluster-detail"),
    path("clusters/<int:cluster_id>/action/", views.cluster_action, name="cluster-action"),
]
