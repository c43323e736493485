"""API: import runs (under /api/)."""

from django.urls import path

from runs.imports import (
    api,
    schema,  # noqa: F401  (registers the OpenAPI description)
)

urlpatterns = [
    path("imports", api.imports, name="api-imports"),
    path("imports/<int:run_id>", api.import_detail, name="api-import-detail"),
]
