"""API: pull-request sync runs (under /api/)."""

from django.urls import path

from runs.github import (
    api,
    schema,  # noqa: F401  (registers the OpenAPI description)
)

urlpatterns = [
    path("pull-requests/sync", api.pull_requests_sync, name="api-pull-requests-sync"),
    path("pull-requests/sync/<int:run_id>", api.pull_requests_sync_detail, name="api-pull-requests-sync-detail"),
]
