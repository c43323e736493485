"""Pages of team inboxes."""

from django.urls import path

from notifications.teams import views

urlpatterns = [
    path("teams/", views.team_list, name="team-list"),
    path("teams/<slug:slug>/", views.team_inbox, name="team-inbox"),
    path("teams/<slug:slug>/settings", views.team_settings_save, name="team-settings"),
    path("teams/<slug:slug>/digest", views.team_digest_send, name="team-digest"),
    path("teams/<slug:slug>/escalate", views.team_escalate, name="team-escalate"),
]
