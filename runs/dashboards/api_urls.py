"""API: migrations, their repositories and attempts (under /api/)."""

from django.urls import path

from runs.dashboards import (
    api,
    schema,  # noqa: F401  (registers the OpenAPI description)
)

urlpatterns = [
    path("migrations", api.migrations_list, name="api-migrations"),
    path("migrations/<slug:slug>/repos", api.migration_repos, name="api-migration-repos"),
    path("migrations/<slug:slug>/attempts", api.migration_attempts, name="api-migration-attempts"),
]
