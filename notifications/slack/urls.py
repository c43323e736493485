"""Pages: the unowned queue, a team's channel and the Slack channel directory."""

from django.urls import path

from notifications.slack import views

urlpatterns = [
    path("ownership/unowned/", views.unowned_queue, name="unowned"),
    path("ownership/teams/<slug:slug>/channel/", views.team_channel_set, name="team-channel-set"),
    path("slack/directory/", views.directory, name="directory"),
    path("slack/directory/sync/", views.directory_sync, name="directory-sync"),
]
