"""Pages: the rerun form, the batch list and a batch; the runner services' callback."""

from django.urls import path

from runs.reruns import api, views

urlpatterns = [
    path("reruns/", views.rerun_list, name="rerun-list"),
    path("reruns/<int:batch_id>/", views.rerun_detail, name="rerun-detail"),
    path("reruns/<int:batch_id>/status/", views.rerun_status, name="rerun-status"),
    path("reruns/<int:batch_id>/cancel/", views.rerun_cancel, name="rerun-cancel"),
    path("reruns/<int:batch_id>/expand/", views.rerun_expand, name="rerun-expand"),
    path("reruns/<int:batch_id>/retry/", views.rerun_retry, name="rerun-retry"),
    path("migrations/<slug:slug>/reruns/new", views.rerun_new, name="rerun-new"),
    # Runner services call back without a user session; the HMAC signature authenticates them.
    path("webhooks/reruns/callback", api.rerun_callback, name="rerun-callback-webhook"),
]
