"""Pull-request state from GitHub: one pull request's refresh, and sync runs split into chunks for workers.

A run claims itself (queued -> running) and splits the pull requests to check into at most
GITHUB_SYNC_CONCURRENCY chunks, one task each. A chunk claims itself before working, saves its
progress (counts and the ids left) every few pull requests, and on a rate limit saves and hands
back to its task, which retries later: a redelivered or retried chunk never counts a pull request twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from fleetui.common.errors import PermanentAPIError, TransientAPIError
from fleetui.common.roles import real_user
from runs.fleet.audit import audit_event_record
from runs.fleet.models import PullRequest
from runs.github.client import GitHubClient, NotModified, PullInfo
from runs.github.etags import DatabaseETagStore, github_etags_prune
from runs.github.links import parse_pr_url
from runs.github.listing import pull_requests_unchanged, split_by_repository
from runs.github.models import PullRequestSyncChunk, PullRequestSyncError, PullRequestSyncRun
from runs.github.state import ci_state, review_decision

logger = logging.getLogger(__name__)

FLUSH_EVERY = 20
MAX_ERROR_ROWS = 1000
# A chunk claimed longer ago than this is taken to belong to a worker that died.
CHUNK_LEASE = timedelta(minutes=20)
STALE_RUN = timedelta(hours=6)
SYNCED_STATES = (PullRequest.State.OPEN, PullRequest.State.UNKNOWN)
# CI states a sync reads again even when the pull request itself did not change.
CI_UNSETTLED = ("", "pending")
TRACKED_FIELDS = ("state", "draft", "mergeable", "head_sha", "checks", "review", "updated_at", "number")

_local = threading.local()


def github_client() -> GitHubClient:
    """The worker thread's GitHub client; its ETags live in the database, so every worker's GETs are conditional."""
    key = (settings.GITHUB_API_URL, settings.GITHUB_TOKEN, settings.GITHUB_TIMEOUT)
    client = getattr(_local, "client", None)
    if client is None or getattr(_local, "key", None) != key:
        client = GitHubClient(
            base_url=settings.GITHUB_API_URL,
            token=settings.GITHUB_TOKEN,
            timeout=settings.GITHUB_TIMEOUT,
            etag_store=DatabaseETagStore(),
        )
        _local.client, _local.key = client, key
    return client


# -- one pull request --------------------------------------------------------------------------------------------


def _ci(client: GitHubClient, owner: str, repo: str, sha: str) -> str:
    if not sha:
        return ""
    combined = client.get_combined_status(owner, repo, sha)
    state = ci_state(client.list_check_runs(owner, repo, sha), combined)
    # Neutral or skipped checks neither pass nor fail the pull request: show no CI verdict.
    return state if state in {"success", "failure", "pending"} else ""


def pull_request_refresh(*, pull_request: PullRequest, client: GitHubClient) -> str:
    """Fetches one pull request's state, CI and reviews; returns "changed", "unchanged" or "not_modified".

    Every GET is conditional. A closed or merged pull request answered 304 is done. Reviews are revalidated on
    every sync; CI only when the pull request changed, or its CI was pending or unknown (a settled verdict on the
    same head stays; check_run and status webhooks report reruns). Raises ValueError for a URL that is not a
    pull request's, and the client's API errors.
    """
    owner, repo, number = parse_pr_url(pull_request.url)
    pull = client.get_pull(owner, repo, number, etag=pull_request.etag or None)
    before = {name: getattr(pull_request, name) for name in TRACKED_FIELDS}
    not_modified = isinstance(pull, NotModified)
    if isinstance(pull, PullInfo):
        pull_request.number = pull.number
        pull_request.state = pull.state
        pull_request.draft = pull.draft
        # None while GitHub computes it; the next sync reads the computed value (the ETag changes with it).
        pull_request.mergeable = pull.mergeable
        pull_request.head_sha = pull.head_sha
        pull_request.updated_at = pull.updated_at or pull_request.updated_at
        pull_request.etag = pull.etag or ""
    if not (not_modified and pull_request.state in (PullRequest.State.CLOSED, PullRequest.State.MERGED)):
        # CI and reviews change without touching the pull request itself; conditional GETs make unchanged
        # ones cheap (a 304 costs no rate limit).
        if not not_modified or before["checks"] in CI_UNSETTLED or pull_request.synced_at is None:
            pull_request.checks = _ci(client, owner, repo, pull_request.head_sha)
        pull_request.review = review_decision(client.list_reviews(owner, repo, number))
    pull_request.synced_at = timezone.now()
    pull_request.save(update_fields=[*TRACKED_FIELDS, "etag", "synced_at"])
    if any(getattr(pull_request, name) != value for name, value in before.items()):
        return "changed"
    return "not_modified" if not_modified else "unchanged"


def pull_request_ci_refresh(*, pull_request: PullRequest, client: GitHubClient, head_sha: str = "") -> bool:
    """Recomputes the CI state of a pull request's head commit; True when it changed."""
    owner, repo, _ = parse_pr_url(pull_request.url)
    if head_sha and not pull_request.head_sha:
        pull_request.head_sha = head_sha
    elif head_sha and head_sha != pull_request.head_sha:
        return False  # a check on an older commit says nothing about the pull request's current head
    checks = _ci(client, owner, repo, pull_request.head_sha)
    changed = checks != pull_request.checks
    pull_request.checks = checks
    pull_request.synced_at = timezone.now()
    pull_request.save(update_fields=["checks", "head_sha", "synced_at"])
    return changed


def pull_request_reviews_refresh(*, pull_request: PullRequest, client: GitHubClient) -> bool:
    """Recomputes a pull request's review decision from all its reviews; True when it changed."""
    owner, repo, number = parse_pr_url(pull_request.url)
    review = review_decision(client.list_reviews(owner, repo, number))
    changed = review != pull_request.review
    pull_request.review = review
    pull_request.synced_at = timezone.now()
    pull_request.save(update_fields=["review", "synced_at"])
    return changed


# -- sync runs ---------------------------------------------------------------------------------------------------


def pull_requests_to_sync(*, migration_id: int | None = None):
    """Pull requests a periodic sync refreshes: open ones and those never read."""
    prs = PullRequest.objects.filter(Q(state__in=SYNCED_STATES) | Q(synced_at__isnull=True))
    if migration_id is not None:
        prs = prs.filter(migration_id=migration_id)
    return prs.order_by("id")


def pull_request_sync_enqueue(*, trigger: str, user: Any = None, migration: Any = None) -> PullRequestSyncRun:
    """Queues a sync run (or returns the one already queued or running) and starts it once committed."""
    # Here, not at the top: the tasks module imports this one.
    from runs.github.tasks import pull_requests_sync_task

    active_statuses = (PullRequestSyncRun.Status.QUEUED, PullRequestSyncRun.Status.RUNNING)
    # A run this old lost its workers (a chunk retried past its limit is abandoned well before): stop waiting.
    PullRequestSyncRun.objects.filter(status__in=active_statuses, created_at__lt=timezone.now() - STALE_RUN).update(
        status=PullRequestSyncRun.Status.FAILED, finished_at=timezone.now(), message="abandoned: no progress"
    )
    active = PullRequestSyncRun.objects.filter(status__in=active_statuses).first()
    if active is not None:
        return active
    run = PullRequestSyncRun.objects.create(trigger=trigger, requested_by=real_user(user), migration=migration)
    if user is not None:
        audit_event_record(
            actor=user, verb="pull_requests.sync_requested", target=run, migration=migration, data={"trigger": trigger}
        )
    transaction.on_commit(partial(pull_requests_sync_task.delay, run.pk))
    return run


def pull_request_sync_start(*, run_id: int, concurrency: int | None = None) -> list[int]:
    """Claims a queued run and splits its pull requests into chunks; returns the chunk ids to hand to workers."""
    run = PullRequestSyncRun.objects.filter(pk=run_id).first()
    if run is None or not run.claim():
        # Redelivered: hand out the chunks not finished yet.
        return list(
            PullRequestSyncChunk.objects.filter(run_id=run_id)
            .exclude(status=PullRequestSyncChunk.Status.DONE)
            .values_list("pk", flat=True)
        )
    rows = list(pull_requests_to_sync(migration_id=run.migration_id).values_list("pk", "repository_id"))
    ids = [pk for pk, _ in rows]
    # Each repository's pull requests in one chunk, so one listing of the repository answers for all of them.
    chunks = split_by_repository(rows, max(1, min(concurrency or settings.GITHUB_SYNC_CONCURRENCY, len(ids))))
    with transaction.atomic():
        created = PullRequestSyncChunk.objects.bulk_create(
            PullRequestSyncChunk(run=run, index=index, pull_request_ids=chunk) for index, chunk in enumerate(chunks)
        )
        PullRequestSyncRun.objects.filter(pk=run_id).update(total=len(ids), chunks_total=len(chunks))
    if not chunks:
        _finish_run(run_id)
        return []
    if created and created[0].pk is None:  # backends that do not return ids from bulk inserts
        return list(PullRequestSyncChunk.objects.filter(run_id=run_id).values_list("pk", flat=True))
    return [chunk.pk for chunk in created]


@dataclass
class _Progress:
    checked: int = 0
    changed: int = 0
    not_modified: int = 0
    errors: int = 0
    error_rows: list | None = None
    unchanged_ids: list | None = None  # left alone: their synced_at moves on at the next flush

    def __post_init__(self) -> None:
        self.error_rows = []
        self.unchanged_ids = []


def _claim_chunk(chunk_id: int) -> bool:
    now = timezone.now()
    free = Q(status=PullRequestSyncChunk.Status.PENDING) | Q(
        status=PullRequestSyncChunk.Status.RUNNING, claimed_at__lt=now - CHUNK_LEASE
    )
    return bool(
        PullRequestSyncChunk.objects.filter(free, pk=chunk_id).update(
            status=PullRequestSyncChunk.Status.RUNNING, claimed_at=now
        )
    )


def _flush(chunk: PullRequestSyncChunk, progress: _Progress, remaining: list[int], *, status: str) -> None:
    """Saves counts and the ids left together, so a retried chunk resumes without counting twice."""
    with transaction.atomic():
        PullRequestSyncRun.objects.filter(pk=chunk.run_id).update(
            checked=F("checked") + progress.checked,
            changed=F("changed") + progress.changed,
            not_modified=F("not_modified") + progress.not_modified,
            errors=F("errors") + progress.errors,
        )
        if progress.error_rows:
            room = MAX_ERROR_ROWS - PullRequestSyncError.objects.filter(run_id=chunk.run_id).count()
            PullRequestSyncError.objects.bulk_create(progress.error_rows[: max(room, 0)])
        if progress.unchanged_ids:
            PullRequest.objects.filter(pk__in=progress.unchanged_ids).update(synced_at=timezone.now())
        PullRequestSyncChunk.objects.filter(pk=chunk.pk).update(pull_request_ids=remaining, status=status)
    progress.checked = progress.changed = progress.not_modified = progress.errors = 0
    progress.error_rows = []
    progress.unchanged_ids = []


def pull_request_sync_chunk_execute(*, chunk_id: int, client: GitHubClient | None = None) -> bool:
    """Refreshes a chunk's pull requests; False when another worker holds it or it is done.

    One pull request's permanent error is recorded and the others go on; a transient error (rate limit,
    5xx after the client's own retries) saves progress, releases the chunk and is raised for the task to retry.
    """
    if not _claim_chunk(chunk_id):
        return False
    chunk = PullRequestSyncChunk.objects.get(pk=chunk_id)
    client = client or github_client()
    remaining = list(chunk.pull_request_ids)
    prs = PullRequest.objects.in_bulk(remaining)
    progress = _Progress()
    try:
        unchanged = pull_requests_unchanged(client=client, pull_requests=prs.values())
        while remaining:
            pr = prs.get(remaining[0])
            if pr is not None:
                try:
                    if pr.pk in unchanged:
                        outcome = _unchanged_pull_request(pr, client, progress)
                    else:
                        outcome = pull_request_refresh(pull_request=pr, client=client)
                except (PermanentAPIError, ValueError) as exc:
                    progress.errors += 1
                    progress.error_rows.append(
                        PullRequestSyncError(
                            run_id=chunk.run_id,
                            pull_request=pr,
                            url=pr.url[:500],
                            status_code=getattr(exc, "status", None),
                            reason=str(exc)[:2000],
                        )
                    )
                else:
                    progress.checked += 1
                    progress.changed += outcome == "changed"
                    progress.not_modified += outcome == "not_modified"
            remaining.pop(0)
            if remaining and (progress.checked + progress.errors) >= FLUSH_EVERY:
                _flush(chunk, progress, remaining, status=PullRequestSyncChunk.Status.RUNNING)
    except TransientAPIError:
        _flush(chunk, progress, remaining, status=PullRequestSyncChunk.Status.PENDING)
        raise
    _flush(chunk, progress, [], status=PullRequestSyncChunk.Status.DONE)
    _chunk_finished(chunk.run_id)
    return True


def _unchanged_pull_request(pr: PullRequest, client: GitHubClient, progress: _Progress) -> str:
    """A pull request its repository's listing vouches for: only CI still pending or unknown is read again."""
    if pr.checks in CI_UNSETTLED:
        owner, repo, _ = parse_pr_url(pr.url)
        checks = _ci(client, owner, repo, pr.head_sha)
        if checks != pr.checks:
            pr.checks = checks
            pr.synced_at = timezone.now()
            pr.save(update_fields=["checks", "synced_at"])
            return "changed"
    progress.unchanged_ids.append(pr.pk)
    return "not_modified"


def pull_request_sync_chunk_abandon(*, chunk_id: int, reason: str) -> None:
    """Gives up on a chunk whose retries ran out: its pull requests left become error rows."""
    chunk = PullRequestSyncChunk.objects.filter(pk=chunk_id).exclude(status=PullRequestSyncChunk.Status.DONE).first()
    if chunk is None:
        return
    prs = PullRequest.objects.in_bulk(chunk.pull_request_ids)
    progress = _Progress()
    for pr_id in chunk.pull_request_ids:
        pr = prs.get(pr_id)
        progress.errors += 1
        progress.error_rows.append(
            PullRequestSyncError(
                run_id=chunk.run_id, pull_request=pr, url=pr.url[:500] if pr else "", reason=reason[:2000]
            )
        )
    _flush(chunk, progress, [], status=PullRequestSyncChunk.Status.DONE)
    _chunk_finished(chunk.run_id)


def _chunk_finished(run_id: int) -> None:
    PullRequestSyncRun.objects.filter(pk=run_id).update(chunks_done=F("chunks_done") + 1)
    run = PullRequestSyncRun.objects.get(pk=run_id)
    if run.chunks_done >= run.chunks_total:
        _finish_run(run_id)


def _finish_run(run_id: int) -> None:
    github_etags_prune()
    run = PullRequestSyncRun.objects.get(pk=run_id)
    message = f"{run.checked} checked, {run.changed} changed, {run.not_modified} not modified, {run.errors} errors"
    run.finish(PullRequestSyncRun.Status.SUCCEEDED, from_status=PullRequestSyncRun.Status.RUNNING, message=message)


def pull_request_sync_run_inline(
    *, trigger: str = "manual", client: GitHubClient | None = None, pull_requests: Iterable[PullRequest] | None = None
) -> PullRequestSyncRun:
    """Runs a whole sync in this process (demo and command line): one chunk, no workers."""
    run = PullRequestSyncRun.objects.create(trigger=trigger, status=PullRequestSyncRun.Status.RUNNING)
    run.started_at = timezone.now()
    ids = (
        [pr.pk for pr in pull_requests]
        if pull_requests is not None
        else list(pull_requests_to_sync().values_list("pk", flat=True))
    )
    PullRequestSyncRun.objects.filter(pk=run.pk).update(started_at=run.started_at, total=len(ids), chunks_total=1)
    chunk = PullRequestSyncChunk.objects.create(run=run, index=0, pull_request_ids=ids)
    pull_request_sync_chunk_execute(chunk_id=chunk.pk, client=client)
    run.refresh_from_db()
    return run


# -- webhooks ----------------------------------------------------------------------------------------------------
