"""Pages: import runs, their errors, and starting an import."""

from django.urls import path

from runs.imports import views

urlpatterns = [
    path("imports/", views.import_list, name="import-list"),
    path("imports/start/", views.import_start, name="import-start"),
    path("imports/<int:run_id>/", views.import_detail, name="import-detail"),
    path("imports/<int:run_id>/status/", views.import_status, name="import-status"),
]
