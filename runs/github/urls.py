"""Pages: the GitHub webhook endpoint and pull-request sync runs."""

from django.urls import path

from runs.github import views

urlpatterns = [
    path("webhooks/github", views.github_webhook, name="github-webhook"),
    path("pull-requests/sync/", views.pull_request_sync_page, name="pull-request-sync"),
    path("pull-requests/sync/start/", views.pull_request_sync_start, name="pull-request-sync-start"),
    path("pull-requests/sync/<int:run_id>/status/", views.pull_request_sync_status, name="pull-request-sync-status"),
]
