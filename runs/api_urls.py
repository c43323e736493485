"""URLs under /api/; another app's endpoints are included from its `api_urls` module when it has one."""

from importlib.util import find_spec

from django.urls import include, path, re_path

from runs import api

urlpatterns = [
    path("openapi.json", api.openapi, name="api-openapi"),
    path("migrations", api.migrations_list, name="api-migrations"),
    path("migrations/<slug:slug>/repos", api.migration_repos, name="api-migration-repos"),
    path("migrations/<slug:slug>/attempts", api.migration_attempts, name="api-migration-attempts"),
    path("imports", api.imports, name="api-imports"),
    path("imports/<int:run_id>", api.import_detail, name="api-import-detail"),
]

for app in ("triage", "notifications"):
    if find_spec(f"{app}.api_urls") is not None:
        urlpatterns.append(path("", include(f"{app}.api_urls")))

# Last: any other path under /api/ answers a JSON 404 rather than the HTML page.
urlpatterns.append(re_path(r"^(?P<path>.*)$", api.not_found))
