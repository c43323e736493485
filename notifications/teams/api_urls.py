from django.urls import path

from notifications.teams import (
    api,
    schema,  # noqa: F401  (registers the OpenAPI description)
)

urlpatterns = [
    path("teams", api.teams, name="api-teams"),
    path("teams/<slug:slug>/inbox", api.team_inbox, name="api-team-inbox"),
]
