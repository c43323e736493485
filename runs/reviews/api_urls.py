"""API: the review queue, reviewer decisions and review patterns (under /api/)."""

from django.urls import path

from runs.reviews import (
    api,
    schema,  # noqa: F401  (registers the OpenAPI description)
)

urlpatterns = [
    path("reviews", api.review_queue, name="api-reviews"),
    path("pull-requests/<int:pr_id>/approve", api.pull_request_approve, name="api-pull-request-approve"),
    path(
        "pull-requests/<int:pr_id>/request-changes",
        api.pull_request_request_changes,
        name="api-pull-request-request-changes",
    ),
    path("migrations/<slug:slug>/review-patterns", api.review_patterns, name="api-review-patterns"),
]
