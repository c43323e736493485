"""Pages: nudge drafts, sending, editing, snoozing a team, and the history."""

from django.urls import path

from notifications.nudges import views

urlpatterns = [
    path("ownership/teams/<slug:slug>/snooze/", views.team_snooze_set, name="team-snooze"),
    path("migrations/<slug:slug>/nudges/new", views.nudge_create, name="nudge-create"),
    path("migrations/<slug:slug>/nudges/", views.nudge_drafts, name="nudge-drafts"),
    path("migrations/<slug:slug>/nudges/send", views.nudge_send_selected, name="nudge-send"),
    path("nudges/<int:pk>/edit", views.nudge_edit, name="nudge-edit"),
    path("nudges/<int:pk>/cancel", views.nudge_cancel_view, name="nudge-cancel"),
    path("nudges/<int:pk>/ready-only", views.nudge_ready_only, name="nudge-ready-only"),
    path("nudges/history/", views.nudge_history, name="nudge-history"),
]
