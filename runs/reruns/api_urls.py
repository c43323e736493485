"""API: rerun batches (under /api/)."""

from django.urls import path

from runs.reruns import (
    api,
    schema,  # noqa: F401  (registers the OpenAPI description)
)

urlpatterns = [
    path("migrations/<slug:slug>/reruns", api.migration_reruns, name="api-migration-reruns"),
    path("reruns", api.reruns, name="api-reruns"),
    path("reruns/callback", api.rerun_callback, name="api-rerun-callback"),
    path("reruns/<int:batch_id>", api.rerun_detail, name="api-rerun-detail"),
    path("reruns/<int:batch_id>/cancel", api.rerun_cancel, name="api-rerun-cancel"),
    path("reruns/<int:batch_id>/expand", api.rerun_expand, name="api-rerun-expand"),
    path("reruns/<int:batch_id>/retry-failed", api.rerun_retry_failed, name="api-rerun-retry-failed"),
]
