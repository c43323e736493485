"""A repository with several tracked pull requests is listed once, conditionally, instead of read one by one."""

from datetime import timedelta

import pytest

from runs.fleet.models import PullRequest
from runs.github import sync
from runs.github.client import GitHubClient
from runs.github.etags import DatabaseETagStore
from runs.github.listing import split_by_repository
from tests.factories import make_attempt, make_migration, make_repo

pytestmark = pytest.mark.django_db


def worker_client(fake) -> GitHubClient:
    return GitHubClient(base_url=fake.url, sleep=lambda _seconds: None, etag_store=DatabaseETagStore())


def monorepo(fake, numbers=(1, 2, 3)) -> list[PullRequest]:
    """Pull requests of several migrations in one repository, CI settled."""
    repo = make_repo("org/mono")
    prs = []
    for number in numbers:
        sha = f"{number:040d}"
        fake.add_pull("org", "mono", number, head_sha=sha)
        fake.add_check_run("org", "mono", sha, name="build", conclusion="success")
        attempt = make_attempt(make_migration(f"migration-{number}"), repo, outcome="succeeded")
        prs.append(
            PullRequest.objects.create(
                url=f"https://github.com/org/mono/pull/{number}",
                repository=repo,
                migration=attempt.migration,
                attempt=attempt,
            )
        )
    return prs


def test_unchanged_pull_requests_of_a_listed_repository_are_not_read_again(fake_github):
    monorepo(fake_github)
    sync.pull_request_sync_run_inline(client=worker_client(fake_github))
    synced_before = dict(PullRequest.objects.values_list("pk", "synced_at"))
    start = len(fake_github.requests)

    run = sync.pull_request_sync_run_inline(client=worker_client(fake_github))

    second = fake_github.requests[start:]
    assert [(request.path, request.query.get("sort")) for request in second] == [("/repos/org/mono/pulls", ["updated"])]
    assert second[0].header("If-None-Match")
    assert (run.checked, run.not_modified, run.changed) == (3, 3, 0)
    # Checked, so their synced_at moves on although nothing of theirs was read.
    assert all(synced_before[pk] < synced_at for pk, synced_at in PullRequest.objects.values_list("pk", "synced_at"))


def test_a_review_in_a_listed_repository_is_picked_up_by_the_next_sync(fake_github):
    monorepo(fake_github)
    sync.pull_request_sync_run_inline(client=worker_client(fake_github))
    fake_github.add_review("org", "mono", 2, user="rita", state="APPROVED")

    run = sync.pull_request_sync_run_inline(client=worker_client(fake_github))

    assert PullRequest.objects.get(url__endswith="/pull/2").review == "approved"
    assert run.changed == 1


def test_pending_ci_of_a_listed_repository_is_read_until_it_settles(fake_github):
    monorepo(fake_github)
    fake_github.check_runs[("org", "mono", f"{1:040d}")][0].update(status="in_progress", conclusion=None)
    sync.pull_request_sync_run_inline(client=worker_client(fake_github))
    assert PullRequest.objects.get(url__endswith="/pull/1").checks == "pending"
    fake_github.check_runs[("org", "mono", f"{1:040d}")][0].update(status="completed", conclusion="failure")

    sync.pull_request_sync_run_inline(client=worker_client(fake_github))

    assert PullRequest.objects.get(url__endswith="/pull/1").checks == "failure"


def test_a_pull_request_not_refreshed_since_the_listing_is_read_in_full(fake_github):
    monorepo(fake_github)
    sync.pull_request_sync_run_inline(client=worker_client(fake_github))
    # As if its refresh had failed after the listing was taken: its row is older than the listing.
    stale = PullRequest.objects.get(url__endswith="/pull/3")
    PullRequest.objects.filter(pk=stale.pk).update(synced_at=stale.synced_at - timedelta(hours=1))
    start = len(fake_github.requests)

    sync.pull_request_sync_run_inline(client=worker_client(fake_github))

    assert [r.path for r in fake_github.requests[start:]][1:] == [
        "/repos/org/mono/pulls/3",
        "/repos/org/mono/pulls/3/reviews",
    ]
    assert PullRequest.objects.get(pk=stale.pk).synced_at > stale.synced_at


def test_a_run_is_split_into_chunks_that_keep_each_repository_whole_and_about_the_same_size():
    rows = [(pk, pk % 5) for pk in range(1, 41)] + [(100 + pk, 9) for pk in range(12)]
    chunks = split_by_repository(rows, 3)
    assert len(chunks) == 3 and sorted(pk for chunk in chunks for pk in chunk) == sorted(pk for pk, _ in rows)
    home = {pk: index for index, chunk in enumerate(chunks) for pk in chunk}
    assert all(len({home[pk] for pk, repo in rows if repo == r}) == 1 for r in {repo for _, repo in rows})
    assert max(map(len, chunks)) - min(map(len, chunks)) <= 12
