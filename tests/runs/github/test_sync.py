"""Pull-request sync against the local fake GitHub: state, CI, reviews, ETags, rate limits and errors."""

import pytest
from django.urls import reverse

from fleetui.celery import app as celery_app
from fleetui.common.roles import MIGRATION_OWNER, VIEWER
from runs.fleet.models import AuditEvent, PullRequest
from runs.github import sync as sync
from runs.github.client import GitHubClient
from runs.github.models import PullRequestSyncChunk, PullRequestSyncError, PullRequestSyncRun
from tests.factories import make_attempt, make_migration, make_pull_request, make_repo, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    """Run tasks in the test's process, raising their errors."""
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


class Sleeps(list):
    """Records the waits the client asks for instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(fake, sleeps=None, **kwargs) -> GitHubClient:
    return GitHubClient(base_url=fake.url, sleep=sleeps if sleeps is not None else Sleeps(), **kwargs)


def imported_pr(repo: str, number: int, migration=None) -> PullRequest:
    """A pull request row as the importer creates it: only its URL and links."""
    attempt = make_attempt(migration or make_migration("java-21"), make_repo(repo), outcome="succeeded")
    return PullRequest.objects.create(
        url=f"https://github.com/{repo}/pull/{number}",
        repository=attempt.repository,
        migration=attempt.migration,
        attempt=attempt,
    )


def test_a_sync_fills_state_draft_ci_and_review_of_each_pull_request(fake_github):
    fake_github.add_pull("org", "svc-a", 7, draft=True, head_sha="a" * 40)
    fake_github.add_check_run("org", "svc-a", "a" * 40, name="build", conclusion="success")
    fake_github.add_status("org", "svc-a", "a" * 40, context="ci/jenkins", state="failure")
    fake_github.add_review("org", "svc-a", 7, user="rita", state="APPROVED")
    fake_github.add_pull("org", "svc-b", 3, state="merged", head_sha="b" * 40)
    fake_github.add_check_run("org", "svc-b", "b" * 40, name="build", status="in_progress")
    fake_github.add_review("org", "svc-b", 3, user="rita", state="CHANGES_REQUESTED")
    a, b = imported_pr("org/svc-a", 7), imported_pr("org/svc-b", 3)

    run = sync.pull_request_sync_run_inline(client=client_for(fake_github))

    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.number, a.state, a.draft, a.mergeable, a.head_sha) == (7, "open", True, True, "a" * 40)
    assert (a.checks, a.review) == ("failure", "approved")
    assert (b.state, b.checks, b.review) == ("merged", "pending", "changes_requested")
    assert a.etag and a.synced_at and a.updated_at
    assert (run.status, run.checked, run.changed, run.errors) == ("succeeded", 2, 2, 0)


def test_a_second_sync_sends_etags_and_counts_unchanged_pull_requests(fake_github):
    fake_github.add_pull("org", "svc-a", 1, draft=True)
    fake_github.add_pull("org", "svc-b", 2, draft=True)
    imported_pr("org/svc-a", 1)
    imported_pr("org/svc-b", 2)
    client = client_for(fake_github)
    sync.pull_request_sync_run_inline(client=client)
    pulls_before = len(fake_github.requests_to("/pulls/"))
    not_modified_before = fake_github.not_modified_count

    second = sync.pull_request_sync_run_inline(client=client)

    pull_requests = [r for r in fake_github.requests_to("/pulls/")[pulls_before:] if not r.path.endswith("/reviews")]
    assert len(pull_requests) == 2
    assert all(r.header("If-None-Match") for r in pull_requests)
    assert (second.checked, second.not_modified, second.changed) == (2, 2, 0)
    assert fake_github.not_modified_count - not_modified_before >= 2


def test_a_change_on_github_after_a_sync_is_picked_up_by_the_next(fake_github):
    fake_github.add_pull("org", "svc-a", 1, draft=True)
    pr = imported_pr("org/svc-a", 1)
    client = client_for(fake_github)
    sync.pull_request_sync_run_inline(client=client)
    fake_github.add_pull("org", "svc-a", 1, state="merged")

    run = sync.pull_request_sync_run_inline(client=client)

    pr.refresh_from_db()
    assert (pr.state, pr.draft) == ("merged", False)
    assert (run.changed, run.not_modified) == (1, 0)


def test_a_secondary_rate_limit_is_waited_out_with_its_retry_after(fake_github):
    fake_github.add_pull("org", "svc-a", 1)
    pr = imported_pr("org/svc-a", 1)
    fake_github.secondary_rate_limit(1, retry_after=7)
    sleeps = Sleeps()

    run = sync.pull_request_sync_run_inline(client=client_for(fake_github, sleeps))

    pr.refresh_from_db()
    assert 7.0 in sleeps
    assert (run.status, run.checked, run.errors, pr.state) == ("succeeded", 1, 0, "open")


def test_a_long_rate_limit_makes_the_chunk_task_retry_later_without_counting_twice(fake_github, monkeypatch):
    from runs.github.tasks import pull_requests_sync_chunk_task

    for number in range(1, 4):
        fake_github.add_pull("org", f"svc-{number}", number)
        imported_pr(f"org/svc-{number}", number)
    # Longer than the client will sleep in-process: the task must hand back and retry after Retry-After.
    monkeypatch.setattr(sync, "github_client", lambda: client_for(fake_github, max_rate_limit_wait=1))
    run = PullRequestSyncRun.objects.create(trigger="manual")
    [chunk_id] = sync.pull_request_sync_start(run_id=run.pk, concurrency=1)
    fake_github.secondary_rate_limit(1, retry_after=30)
    retried = []
    monkeypatch.setattr(pull_requests_sync_chunk_task, "retry", _record_retry(retried))

    with pytest.raises(_Retried):
        pull_requests_sync_chunk_task.apply(args=[chunk_id], throw=True)

    assert retried and retried[0] >= 30
    chunk = PullRequestSyncChunk.objects.get(pk=chunk_id)
    assert chunk.status == "pending" and len(chunk.pull_request_ids) == 3

    pull_requests_sync_chunk_task.apply(args=[chunk_id], throw=True)

    run.refresh_from_db()
    assert (run.status, run.checked, run.errors) == ("succeeded", 3, 0)


class _Retried(Exception):
    pass


def _record_retry(calls):
    def retry(exc=None, countdown=None, **kwargs):
        calls.append(countdown)
        return _Retried(str(exc))

    return retry


def test_a_server_error_is_retried_and_then_succeeds(fake_github):
    fake_github.add_pull("org", "svc-a", 1, draft=True)
    pr = imported_pr("org/svc-a", 1)
    fake_github.fail_next(1, 502)
    sleeps = Sleeps()

    run = sync.pull_request_sync_run_inline(client=client_for(fake_github, sleeps))

    pr.refresh_from_db()
    assert sleeps, "the client backs off before retrying a 5xx"
    assert (run.checked, run.errors, pr.draft) == (1, 0, True)


def test_a_pull_request_whose_mergeability_is_still_computing_is_stored_as_unknown(fake_github):
    fake_github.add_pull("org", "svc-a", 1, mergeable=None)
    pr = imported_pr("org/svc-a", 1)
    client = client_for(fake_github)
    sync.pull_request_sync_run_inline(client=client)
    pr.refresh_from_db()
    assert pr.mergeable is None and pr.state == "open"

    fake_github.add_pull("org", "svc-a", 1, mergeable=False, mergeable_state="dirty")
    sync.pull_request_sync_run_inline(client=client)
    pr.refresh_from_db()
    assert pr.mergeable is False


def test_one_missing_pull_request_is_recorded_and_the_others_are_synced(fake_github):
    fake_github.add_pull("org", "svc-a", 1)
    fake_github.add_pull("org", "svc-c", 3)
    a, gone, c = imported_pr("org/svc-a", 1), imported_pr("org/svc-b", 2), imported_pr("org/svc-c", 3)

    run = sync.pull_request_sync_run_inline(client=client_for(fake_github))

    a.refresh_from_db()
    c.refresh_from_db()
    gone.refresh_from_db()
    assert (a.state, c.state, gone.state) == ("open", "open", "unknown")
    assert (run.status, run.checked, run.errors) == ("succeeded", 2, 1)
    error = PullRequestSyncError.objects.get(run=run)
    assert error.pull_request == gone and error.status_code == 404


def test_the_periodic_refresh_skips_merged_and_closed_pull_requests(fake_github):
    attempt = make_attempt(make_migration("java-21"), make_repo("org/done"), outcome="succeeded")
    make_pull_request(attempt, number=9, state="merged", synced_at=attempt.ended_at)
    fake_github.add_pull("org", "svc-a", 1)
    open_pr = imported_pr("org/svc-a", 1)

    assert list(sync.pull_requests_to_sync()) == [open_pr]


def test_sync_now_runs_the_chunks_on_workers_and_fills_the_run(
    fake_github, eager, monkeypatch, client, settings, django_capture_on_commit_callbacks
):
    settings.GITHUB_SYNC_CONCURRENCY = 2
    for number in range(1, 6):
        fake_github.add_pull("org", f"svc-{number}", number, draft=True)
        imported_pr(f"org/svc-{number}", number)
    monkeypatch.setattr(sync, "github_client", lambda: client_for(fake_github))
    client.force_login(make_user(role=MIGRATION_OWNER))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("pull-request-sync-start"))

    assert response.status_code == 302
    run = PullRequestSyncRun.objects.get()
    assert (run.status, run.total, run.chunks_total, run.chunks_done, run.checked) == ("succeeded", 5, 2, 2, 5)
    assert set(PullRequest.objects.values_list("draft", flat=True)) == {True}
    assert AuditEvent.objects.filter(verb="pull_requests.sync_requested").count() == 1
    page = client.get(reverse("pull-request-sync"))
    assert b"5 checked" in page.content


def test_a_redelivered_chunk_does_not_sync_twice(fake_github):
    fake_github.add_pull("org", "svc-a", 1)
    imported_pr("org/svc-a", 1)
    run = PullRequestSyncRun.objects.create(trigger="manual")
    [chunk_id] = sync.pull_request_sync_start(run_id=run.pk)
    client = client_for(fake_github)
    assert sync.pull_request_sync_chunk_execute(chunk_id=chunk_id, client=client) is True
    assert sync.pull_request_sync_chunk_execute(chunk_id=chunk_id, client=client) is False
    assert sync.pull_request_sync_start(run_id=run.pk) == []
    run.refresh_from_db()
    assert (run.checked, run.chunks_done) == (1, 1)


def test_only_migration_owners_may_start_a_sync(client):
    client.force_login(make_user(role=VIEWER))
    assert client.post(reverse("pull-request-sync-start")).status_code == 403
    assert client.post("/api/pull-requests/sync").status_code == 403
    assert not PullRequestSyncRun.objects.exists()


def test_the_api_starts_a_sync_and_answers_with_the_queued_run(client):
    client.force_login(make_user(role=MIGRATION_OWNER))
    response = client.post("/api/pull-requests/sync")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued" and body["id"] == PullRequestSyncRun.objects.get().pk
    # A second request while one is queued answers the same run.
    assert client.post("/api/pull-requests/sync").json()["id"] == body["id"]


def test_the_demo_github_serves_varied_states_that_the_normal_sync_reads(fake_github):
    from runs.demo.fake_github import FakeGitHub
    from runs.demo.github import demo_github_populate, demo_github_sync

    migration = make_migration("java-21")
    prs = [imported_pr(f"org/svc-{i:02d}", 100 + i, migration=migration) for i in range(40)]
    assert demo_github_populate(fake_github, prs, seed=3) == 40

    run = demo_github_sync(base_url=fake_github.url)

    assert (run.status, run.checked, run.errors) == ("succeeded", 40, 0)
    rows = list(PullRequest.objects.values_list("state", "draft", "checks", "review"))
    assert {state for state, *_ in rows} >= {"open", "merged"}
    assert {draft for _, draft, *_ in rows} == {True, False}
    assert {checks for *_, checks, _ in rows} >= {"success", "failure", "pending"}
    assert "approved" in {review for *_, review in rows}
    again = FakeGitHub()
    demo_github_populate(again, prs, seed=3)
    assert again.pulls.keys() == fake_github.pulls.keys()
    assert [p["draft"] for p in again.pulls.values()] == [p["draft"] for p in fake_github.pulls.values()]


def test_a_run_stuck_for_hours_does_not_block_the_next_sync():
    from datetime import timedelta

    from django.utils import timezone

    stuck = PullRequestSyncRun.objects.create(trigger="schedule", status="running")
    PullRequestSyncRun.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(days=1))

    fresh = sync.pull_request_sync_enqueue(trigger="schedule")

    stuck.refresh_from_db()
    assert fresh.pk != stuck.pk and fresh.status == "queued"
    assert stuck.status == "failed" and stuck.finished_at


def test_the_sync_status_partial_polls_while_the_run_is_going_and_stops_when_done(client):
    client.force_login(make_user(role=VIEWER))
    run = PullRequestSyncRun.objects.create(trigger="manual", status="running")
    url = reverse("pull-request-sync-status", args=[run.pk])
    assert b'hx-trigger="every 2s"' in client.get(url).content
    PullRequestSyncRun.objects.filter(pk=run.pk).update(status="succeeded", message="3 checked")
    done = client.get(url).content
    assert b"hx-trigger" not in done and b"3 checked" in done
    page = client.get(reverse("pull-request-sync")).content
    assert b"Sync now" not in page  # viewers cannot start one


def test_some_open_demo_pull_requests_were_left_alone_since_the_agent_opened_them(fake_github):
    from datetime import timedelta

    from django.utils import timezone

    from runs.demo.github import demo_github_populate, demo_github_sync

    migration = make_migration("java-21")
    ended = timezone.now() - timedelta(days=12)
    prs = []
    for i in range(40):
        pr = imported_pr(f"org/old-{i:02d}", 200 + i, migration=migration)
        type(pr.attempt).objects.filter(pk=pr.attempt_id).update(ended_at=ended)
        prs.append(PullRequest.objects.select_related("attempt", "migration").get(pk=pr.pk))
    demo_github_populate(fake_github, prs, seed=3)

    demo_github_sync(base_url=fake_github.url)

    open_prs = PullRequest.objects.filter(state="open")
    old = [pr for pr in open_prs if pr.updated_at < timezone.now() - timedelta(days=7)]
    assert 0 < len(old) < open_prs.count(), "some, not all, open pull requests look untouched for days"
    assert all(abs((pr.updated_at - ended).total_seconds()) < 1 for pr in old)
