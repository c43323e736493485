"""Every route of the product: pages and the JSON API, one URL module per domain."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import include, path, re_path

from fleetui.common import api


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


# Each domain's JSON endpoints, mounted under /api/.
API_URLS = (
    "runs.dashboards.api_urls",
    "runs.imports.api_urls",
    "runs.github.api_urls",
    "runs.reviews.api_urls",
    "runs.reruns.api_urls",
    "triage.clusters.api_urls",
    "notifications.nudges.api_urls",
    "notifications.teams.api_urls",
)

# Errors under /api/ answer JSON, everywhere else Django's pages (fleetui.common.http_errors).
handler400 = "fleetui.common.http_errors.bad_request"
handler403 = "fleetui.common.http_errors.permission_denied"
handler404 = "fleetui.common.http_errors.page_not_found"
handler500 = "fleetui.common.http_errors.server_error"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # Pages
    path("", include("runs.dashboards.urls")),
    path("", include("runs.imports.urls")),
    path("", include("runs.github.urls")),
    path("", include("runs.reviews.urls")),
    path("", include("runs.reruns.urls")),
    path("", include("runs.fleet.urls")),
    path("", include("triage.clusters.urls")),
    path("", include("notifications.urls")),
    path("", include("runs.accounts.urls")),
    # The JSON API; its last pattern answers any other /api/ path with a JSON 404.
    *[path("api/", include(module)) for module in API_URLS],
    path("api/openapi.json", api.openapi, name="api-openapi"),
    re_path(r"^api/(?P<path>.*)$", api.not_found),
]
