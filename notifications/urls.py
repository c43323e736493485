"""Pages of ownership, the Slack directory and nudges, under the "notifications" namespace."""

from django.urls import include, path

app_name = "notifications"

urlpatterns = [
    path("", include("notifications.ownership.urls")),
    path("", include("notifications.slack.urls")),
    path("", include("notifications.nudges.urls")),
    path("", include("notifications.teams.urls")),
]
