from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import include, path


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # Capability URL modules carry their pages and their /api/ endpoints; they come before
    # runs.api_urls, whose last pattern answers any other /api/ path with a JSON 404.
    path("", include("runs.github_urls")),
    path("", include("runs.rerun_urls")),
    path("api/", include("runs.api_urls")),
    path("", include("triage.urls")),
    path("", include("notifications.urls")),
    path("", include("runs.urls")),
]
