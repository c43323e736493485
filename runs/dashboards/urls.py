"""Pages: the fleet overview, a migration's dashboard and repositories, an attempt, the activity log."""

from django.urls import path

from runs.dashboards import layer_views, list_views, views

urlpatterns = [
    path("", list_views.home, name="home"),
    path("migrations/<slug:slug>/", views.migration_detail, name="migration-detail"),
    path("migrations/<slug:slug>/layers/", layer_views.migration_layers, name="migration-layers"),
    path("migrations/<slug:slug>/repos/", list_views.migration_repos, name="migration-repos"),
    path("attempts/<str:trace_id>/", views.attempt_detail, name="attempt-detail"),
    path("activity/", views.activity, name="activity"),
]
