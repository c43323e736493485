"""Pages: the reviewer queue, decisions, diffs, review patterns and judge calibration."""

from django.urls import path

from runs.reviews import bulk, views

urlpatterns = [
    path("reviews/", views.review_queue_page, name="reviews"),
    path("reviews/decisions/", views.review_decisions_status, name="review-decisions-status"),
    path("reviews/bulk/", bulk.review_bulk, name="review-bulk"),
    path("reviews/bulk-approve/", bulk.review_bulk, name="review-bulk-approve"),
    path("reviews/calibration/", views.judge_calibration_page, name="judge-calibration"),
    path("reviews/<int:pr_id>/approve/", views.review_approve, name="review-approve"),
    path("reviews/<int:pr_id>/request-changes/", views.review_request_changes, name="review-request-changes"),
    path("reviews/<int:pr_id>/diff/", views.review_diff, name="review-diff"),
    path("migrations/<slug:slug>/reviews/", views.review_queue_page, name="migration-reviews"),
    path("migrations/<slug:slug>/reviews/patterns/", views.review_patterns_page, name="review-patterns"),
]
