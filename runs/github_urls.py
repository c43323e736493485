"""URLs of this capability: its pages and its /api/ endpoints."""

from django.urls import path

from runs import api_reviews, views_github

urlpatterns = [
    path("webhooks/github", views_github.github_webhook, name="github-webhook"),
    path("pull-requests/sync/", views_github.pull_request_sync_page, name="pull-request-sync"),
    path("pull-requests/sync/start/", views_github.pull_request_sync_start, name="pull-request-sync-start"),
    path(
        "pull-requests/sync/<int:run_id>/status/",
        views_github.pull_request_sync_status,
        name="pull-request-sync-status",
    ),
    path("reviews/", views_github.review_queue_page, name="reviews"),
    path("reviews/decisions/", views_github.review_decisions_status, name="review-decisions-status"),
    path("reviews/bulk-approve/", views_github.review_bulk_approve, name="review-bulk-approve"),
    path("reviews/calibration/", views_github.judge_calibration_page, name="judge-calibration"),
    path("reviews/<int:pr_id>/approve/", views_github.review_approve, name="review-approve"),
    path("reviews/<int:pr_id>/request-changes/", views_github.review_request_changes, name="review-request-changes"),
    path("migrations/<slug:slug>/reviews/", views_github.review_queue_page, name="migration-reviews"),
    path("migrations/<slug:slug>/reviews/patterns/", views_github.review_patterns_page, name="review-patterns"),
    path("api/reviews", api_reviews.review_queue, name="api-reviews"),
    path("api/pull-requests/sync", api_reviews.pull_requests_sync, name="api-pull-requests-sync"),
    path(
        "api/pull-requests/sync/<int:run_id>",
        api_reviews.pull_requests_sync_detail,
        name="api-pull-requests-sync-detail",
    ),
    path("api/pull-requests/<int:pr_id>/approve", api_reviews.pull_request_approve, name="api-pull-request-approve"),
    path(
        "api/pull-requests/<int:pr_id>/request-changes",
        api_reviews.pull_request_request_changes,
        name="api-pull-request-request-changes",
    ),
    path("api/migrations/<slug:slug>/review-patterns", api_reviews.review_patterns, name="api-review-patterns"),
]
