from django.urls import path

from runs import views

urlpatterns = [
    path("", views.home, name="home"),
    path("migrations/<slug:slug>/", views.migration_detail, name="migration-detail"),
    path("migrations/<slug:slug>/repos/", views.migration_repos, name="migration-repos"),
    path("attempts/<str:trace_id>/", views.attempt_detail, name="attempt-detail"),
    path("activity/", views.activity, name="activity"),
    path("imports/", views.import_list, name="import-list"),
    path("imports/start/", views.import_start, name="import-start"),
    path("imports/<int:run_id>/", views.import_detail, name="import-detail"),
    path("imports/<int:run_id>/status/", views.import_status, name="import-status"),
]
