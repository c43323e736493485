"""URLs of this capability: its pages and its /api/ endpoints."""

from django.urls import path

from runs import api_reruns, views_reruns

urlpatterns = [
    path("reruns/", views_reruns.rerun_list, name="rerun-list"),
    path("reruns/<int:batch_id>/", views_reruns.rerun_detail, name="rerun-detail"),
    path("reruns/<int:batch_id>/status/", views_reruns.rerun_status, name="rerun-status"),
    path("reruns/<int:batch_id>/cancel/", views_reruns.rerun_cancel, name="rerun-cancel"),
    path("reruns/<int:batch_id>/retry/", views_reruns.rerun_retry, name="rerun-retry"),
    path("migrations/<slug:slug>/reruns/new", views_reruns.rerun_new, name="rerun-new"),
    path("api/migrations/<slug:slug>/reruns", api_reruns.migration_reruns, name="api-migration-reruns"),
    path("api/reruns", api_reruns.reruns, name="api-reruns"),
    path("api/reruns/callback", api_reruns.rerun_callback, name="api-rerun-callback"),
    path("api/reruns/<int:batch_id>", api_reruns.rerun_detail, name="api-rerun-detail"),
    path("api/reruns/<int:batch_id>/cancel", api_reruns.rerun_cancel, name="api-rerun-cancel"),
    path("api/reruns/<int:batch_id>/retry-failed", api_reruns.rerun_retry_failed, name="api-rerun-retry-failed"),
    # Runner services call back without a user session; the HMAC signature authenticates them.
    path("webhooks/reruns/callback", api_reruns.rerun_callback, name="rerun-callback-webhook"),
]
