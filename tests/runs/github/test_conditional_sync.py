"""Syncs within the rate limit: every GET conditional, ETags kept in the database, unchanged answers as 304s."""

import pytest
import requests

from runs.fleet.models import PullRequest
from runs.github import sync
from runs.github.client import GitHubClient
from runs.github.etags import DatabaseETagStore
from runs.github.models import GitHubETag
from tests.factories import make_attempt, make_migration, make_repo

pytestmark = pytest.mark.django_db


def worker_client(fake) -> GitHubClient:
    """A client as a newly started worker builds it: nothing in memory, ETags from the database."""
    return GitHubClient(base_url=fake.url, sleep=lambda _seconds: None, etag_store=DatabaseETagStore())


def imported_pr(repo: str, number: int, migration=None) -> PullRequest:
    attempt = make_attempt(migration or make_migration("java-21"), make_repo(repo), outcome="succeeded")
    return PullRequest.objects.create(
        url=f"https://github.com/{repo}/pull/{number}",
        repository=attempt.repository,
        migration=attempt.migration,
        attempt=attempt,
    )


def demo_fleet(fake, count: int = 24) -> list[PullRequest]:
    from runs.demo.github import demo_github_populate

    migration = make_migration("java-21")
    prs = [imported_pr(f"org/svc-{index:02d}", 100 + index, migration=migration) for index in range(count)]
    demo_github_populate(fake, prs, seed=5)
    return prs


class Counter:
    """Requests, 304s and counted requests the fake saw since it was made."""

    def __init__(self, fake) -> None:
        self.fake = fake
        self.requests, self.not_modified, self.counted = len(fake.requests), fake.not_modified_count, fake.counted_count

    def since(self) -> tuple[int, int, int]:
        return (
            len(self.fake.requests) - self.requests,
            self.fake.not_modified_count - self.not_modified,
            self.fake.counted_count - self.counted,
        )


def test_a_second_sync_with_nothing_changed_is_answered_at_least_90_percent_with_304s(fake_github):
    demo_fleet(fake_github)
    first = sync.pull_request_sync_run_inline(client=worker_client(fake_github))
    counter, start = Counter(fake_github), len(fake_github.requests)

    second = sync.pull_request_sync_run_inline(client=worker_client(fake_github))

    requests, not_modified, counted = counter.since()
    assert (first.errors, second.errors) == (0, 0)
    assert second.checked > 0 and second.not_modified == second.checked
    assert requests > 0 and not_modified / requests >= 0.9
    assert counted <= requests // 10
    assert all(request.header("If-None-Match") for request in fake_github.requests[start:])


def test_a_pull_request_changed_on_github_is_refetched_while_the_others_answer_304(fake_github):
    fake_github.add_pull("org", "svc-a", 1, draft=True, head_sha="a" * 40)
    fake_github.add_check_run("org", "svc-a", "a" * 40, name="build", conclusion="success")
    fake_github.add_pull("org", "svc-b", 2, draft=True, head_sha="b" * 40)
    fake_github.add_check_run("org", "svc-b", "b" * 40, name="build", conclusion="success")
    a, b = imported_pr("org/svc-a", 1), imported_pr("org/svc-b", 2)
    sync.pull_request_sync_run_inline(client=worker_client(fake_github))
    fake_github.add_pull("org", "svc-a", 1, draft=False, head_sha="c" * 40)
    fake_github.add_check_run("org", "svc-a", "c" * 40, name="build", conclusion="failure")
    counter = Counter(fake_github)

    run = sync.pull_request_sync_run_inline(client=worker_client(fake_github))

    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.draft, a.head_sha, a.checks) == (False, "c" * 40, "failure")
    assert (b.draft, b.checks) == (True, "success")
    assert (run.changed, run.not_modified) == (1, 1)
    # The changed pull request, its new head's check runs and status are read in full; its reviews and
    # everything of the unchanged one answer 304.
    assert counter.since()[2] == 3
    # A settled verdict on the same head stays: its status and check runs were read by the first sync only.
    assert len(fake_github.requests_to("/commits/" + "b" * 40)) == 2


def test_a_review_on_an_unchanged_pull_request_is_picked_up_by_the_next_sync(fake_github):
    fake_github.add_pull("org", "svc-a", 1)
    pr = imported_pr("org/svc-a", 1)
    sync.pull_request_sync_run_inline(client=worker_client(fake_github))
    fake_github.add_review("org", "svc-a", 1, user="rita", state="APPROVED")

    sync.pull_request_sync_run_inline(client=worker_client(fake_github))

    pr.refresh_from_db()
    assert pr.review == "approved"


def test_pending_ci_is_read_again_until_it_settles(fake_github):
    fake_github.add_pull("org", "svc-a", 1, head_sha="a" * 40)
    fake_github.add_check_run("org", "svc-a", "a" * 40, name="build", status="in_progress")
    pr = imported_pr("org/svc-a", 1)
    sync.pull_request_sync_run_inline(client=worker_client(fake_github))
    pr.refresh_from_db()
    assert pr.checks == "pending"
    fake_github.check_runs[("org", "svc-a", "a" * 40)][0].update(status="completed", conclusion="success")

    sync.pull_request_sync_run_inline(client=worker_client(fake_github))

    pr.refresh_from_db()
    assert pr.checks == "success"


def test_etags_survive_a_new_client_and_its_304_yields_the_stored_answer(fake_github):
    fake_github.add_pull("org", "svc", 1)
    fake_github.add_review("org", "svc", 1, user="rita", state="APPROVED")
    first = worker_client(fake_github).list_reviews("org", "svc", 1)
    counter = Counter(fake_github)

    again = worker_client(fake_github).list_reviews("org", "svc", 1)

    assert again == first and [review.user for review in again] == ["rita"]
    assert counter.since() == (1, 1, 0)
    assert fake_github.requests[-1].header("If-None-Match")
    assert GitHubETag.objects.filter(url__contains="/pulls/1/reviews").exists()


def test_a_304_page_of_a_paged_list_keeps_its_stored_items(fake_github):
    fake_github.add_pull("org", "svc", 1)
    for user in ("ana", "bo", "chen", "dara", "eli"):
        fake_github.add_review("org", "svc", 1, user=user, state="COMMENTED")
    GitHubClient(base_url=fake_github.url, page_size=2, etag_store=DatabaseETagStore()).list_reviews("org", "svc", 1)
    fake_github.add_review("org", "svc", 1, user="fay", state="APPROVED")  # changes only the last page
    counter = Counter(fake_github)

    reviews = GitHubClient(base_url=fake_github.url, page_size=2, etag_store=DatabaseETagStore()).list_reviews(
        "org", "svc", 1
    )

    assert [review.user for review in reviews] == ["ana", "bo", "chen", "dara", "eli", "fay"]
    assert counter.since() == (3, 2, 1)
    assert reviews[0].submitted_at is not None


def test_the_fake_answers_if_modified_since_with_304_and_counts_only_full_answers(fake_github):
    fake_github.add_pull("org", "svc", 1)
    client = GitHubClient(base_url=fake_github.url)
    client.get_pull("org", "svc", 1)
    stamp = client.transport.etag_store.get(f"{fake_github.url}/repos/org/svc/pulls/1").last_modified
    assert stamp

    unchanged = requests.get(f"{fake_github.url}/repos/org/svc/pulls/1", headers={"If-Modified-Since": stamp})
    stale = requests.get(
        f"{fake_github.url}/repos/org/svc/pulls/1", headers={"If-None-Match": 'W/"old"', "If-Modified-Since": stamp}
    )

    assert (unchanged.status_code, stale.status_code) == (304, 200)
    assert (fake_github.counted_count, fake_github.not_modified_count) == (2, 1)
