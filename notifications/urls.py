from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("ownership/unowned/", views.unowned_queue, name="unowned"),
    path("ownership/override/", views.override_set, name="override-set"),
    path("ownership/teams/<slug:slug>/channel/", views.team_channel_set, name="team-channel-set"),
    path("ownership/teams/<slug:slug>/snooze/", views.team_snooze_set, name="team-snooze"),
    path("slack/directory/", views.directory, name="directory"),
    path("slack/directory/sync/", views.directory_sync, name="directory-sync"),
    path("migrations/<slug:slug>/nudges/new", views.nudge_create, name="nudge-create"),
    path("migrations/<slug:slug>/nudges/", views.nudge_drafts, name="nudge-drafts"),
    path("migrations/<slug:slug>/nudges/send", views.nudge_send_selected, name="nudge-send"),
    path("nudges/<int:pk>/edit", views.nudge_edit, name="nudge-edit"),
    path("nudges/<int:pk>/cancel", views.nudge_cancel_view, name="nudge-cancel"),
    path("nudges/history/", views.nudge_history, name="nudge-history"),
]
