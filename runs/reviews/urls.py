"""Pages: the reviewer queue, decisions, review patterns and judge calibration."""

from django.urls import path

from runs.reviews import views

urlpatterns = [
    path("reviews/", views.review_queue_page, name="reviews"),
    path("reviews/decisions/", views.review_decisions_status, name="review-decisions-status"),
    path("reviews/bulk-approve/", views.review_bulk_approve, name="review-bulk-approve"),
    path("reviews/calibration/", views.judge_calibration_page, name="judge-calibration"),
    path("reviews/<int:pr_id>/approve/", views.review_approve, name="review-approve"),
    path("reviews/<int:pr_id>/request-changes/", views.review_request_changes, name="review-request-changes"),
    path("migrations/<slug:slug>/reviews/", views.review_queue_page, name="migration-reviews"),
    path("migrations/<slug:slug>/reviews/patterns/", views.review_patterns_page, name="review-patterns"),
]
