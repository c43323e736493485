"""Read-only queries on pull-request sync runs and their errors."""

from __future__ import annotations

from django.db.models import QuerySet

from runs.github.models import PullRequestSyncError, PullRequestSyncRun


def pull_request_sync_run_list() -> QuerySet[PullRequestSyncRun]:
    """Sync runs, newest first."""
    return PullRequestSyncRun.objects.select_related("requested_by").order_by("-created_at", "-id")


def pull_request_sync_run_get(*, run_id: int) -> PullRequestSyncRun | None:
    return PullRequestSyncRun.objects.select_related("requested_by").filter(pk=run_id).first()


def pull_request_sync_error_list(*, run: PullRequestSyncRun) -> QuerySet[PullRequestSyncError]:
    return PullRequestSyncError.objects.filter(run=run).order_by("id")
