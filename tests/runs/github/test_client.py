"""The real GitHub client against the local fake GitHub built from GitHub's example payloads."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from fleetui.common.errors import PermanentAPIError, RateLimitedError, TransientAPIError
from runs.github.client import GitHubClient, NotModified, PullInfo, graphql_url_for, parse_pr_url
from runs.github.state import ci_state, review_decision

# Provides the fake_github fixture (harmless if tests/conftest.py registers it too).
pytest_plugins = ["runs.demo.fake_github"]

if TYPE_CHECKING:
    from runs.demo.fake_github import FakeGitHub


class FakeClock:
    """Time that moves only when the client sleeps."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def make_client(fake: FakeGitHub, clock: FakeClock | None = None, **kwargs) -> GitHubClient:
    clock = clock or FakeClock()
    kwargs.setdefault("token", "t0ken")
    return GitHubClient(base_url=fake.url, sleep=clock.sleep, clock=clock, **kwargs)


def test_it_sends_the_pinned_api_version_and_credentials(fake_github):
    fake_github.add_pull("octo", "svc", 7)
    make_client(fake_github).get_pull("octo", "svc", 7)
    request = fake_github.requests[-1]
    assert request.header("X-GitHub-Api-Version") == "2022-11-28"
    assert request.header("Accept") == "application/vnd.github+json"
    assert request.header("Authorization") == "Bearer t0ken"
    assert request.header("User-Agent") == "fleetui"


def test_it_leaves_out_authorization_without_a_token(fake_github):
    fake_github.add_pull("octo", "svc", 7)
    GitHubClient(base_url=fake_github.url).get_pull("octo", "svc", 7)
    assert fake_github.requests[-1].header("Authorization") is None


def test_it_reads_a_pull_request_into_a_dataclass(fake_github):
    served = fake_github.add_pull("octo", "svc", 12, draft=True, head_ref="migrate-java-21")
    pull = make_client(fake_github).get_pull("octo", "svc", 12)
    assert isinstance(pull, PullInfo)
    assert (pull.owner, pull.repo, pull.number) == ("octo", "svc", 12)
    assert pull.state == "open" and pull.draft is True and pull.mergeable is True
    assert pull.head_sha == served["head"]["sha"]
    assert pull.head_ref == "migrate-java-21"
    assert pull.node_id == served["node_id"]
    assert pull.html_url == "https://github.com/octo/svc/pull/12"
    assert pull.etag and pull.updated_at is not None and pull.updated_at.tzinfo is not None


def test_it_reports_merged_and_closed_pull_requests(fake_github):
    fake_github.add_pull("octo", "svc", 1, merged=True)
    fake_github.add_pull("octo", "svc", 2, state="closed")
    client = make_client(fake_github)
    merged = client.get_pull("octo", "svc", 1)
    closed = client.get_pull("octo", "svc", 2)
    assert merged.state == "merged" and merged.merged_at is not None
    assert closed.state == "closed" and closed.merged_at is None


def test_it_keeps_mergeable_unknown_while_github_computes_it(fake_github):
    fake_github.add_pull("octo", "svc", 3, mergeable=None)
    pull = make_client(fake_github).get_pull("octo", "svc", 3)
    assert pull.mergeable is None
    assert pull.mergeable_state == "unknown"


def test_it_answers_not_modified_when_the_etag_still_matches(fake_github):
    fake_github.add_pull("octo", "svc", 4)
    client = make_client(fake_github, etag_cache_size=0)
    first = client.get_pull("octo", "svc", 4)
    second = client.get_pull("octo", "svc", 4, etag=first.etag)
    assert isinstance(second, NotModified)
    assert second.etag == first.etag
    assert fake_github.requests[-1].header("If-None-Match") == first.etag
    assert fake_github.not_modified_count == 1
    assert fake_github.rate_limit_remaining == fake_github.rate_limit - 1


def test_it_returns_fresh_data_when_the_pull_request_changed_since_the_etag(fake_github):
    fake_github.add_pull("octo", "svc", 4)
    client = make_client(fake_github)
    first = client.get_pull("octo", "svc", 4)
    fake_github.add_pull("octo", "svc", 4, draft=True)
    second = client.get_pull("octo", "svc", 4, etag=first.etag)
    assert isinstance(second, PullInfo) and second.draft is True
    assert second.etag != first.etag


def test_its_cache_sends_if_none_match_and_serves_the_stored_pull_request(fake_github):
    fake_github.add_pull("octo", "svc", 5, title="Bump Java")
    client = make_client(fake_github)
    first = client.get_pull("octo", "svc", 5)
    second = client.get_pull("octo", "svc", 5)
    assert second == first
    assert fake_github.requests[-1].header("If-None-Match") == first.etag
    assert fake_github.not_modified_count == 1
    assert client.not_modified_count == 1


def test_it_follows_link_pagination_across_three_pages(fake_github):
    for number in range(1, 6):
        fake_github.add_pull("octo", "svc", number)
    client = make_client(fake_github, page_size=2)
    pulls = client.list_pulls("octo", "svc")
    assert [pull.number for pull in pulls] == [1, 2, 3, 4, 5]
    pages = fake_github.requests_to("/repos/octo/svc/pulls")
    assert len(pages) == 3
    assert [request.query.get("page", ["1"])[0] for request in pages] == ["1", "2", "3"]
    assert all(request.query["state"] == ["open"] for request in pages)
    # List items lack mergeable; unknown is not the same as "not mergeable".
    assert all(pull.mergeable is None for pull in pulls)


def test_it_filters_pull_requests_by_head_branch(fake_github):
    fake_github.add_pull("octo", "svc", 1, head_ref="fleet/java-21")
    fake_github.add_pull("octo", "svc", 2, head_ref="other")
    pulls = make_client(fake_github).list_pulls("octo", "svc", state="all", head="octo:fleet/java-21")
    assert [pull.number for pull in pulls] == [1]


def test_it_lists_reviews_and_check_runs_across_pages(fake_github):
    fake_github.add_pull("octo", "svc", 8)
    fake_github.add_review("octo", "svc", 8, user="alice", state="CHANGES_REQUESTED")
    fake_github.add_review("octo", "svc", 8, user="bob", state="COMMENTED")
    fake_github.add_review("octo", "svc", 8, user="alice", state="APPROVED")
    for name in ("build", "test", "lint"):
        fake_github.add_check_run("octo", "svc", "abc123", name=name, conclusion="success")
    client = make_client(fake_github, page_size=2)
    reviews = client.list_reviews("octo", "svc", 8)
    runs = client.list_check_runs("octo", "svc", "abc123")
    assert [(review.user, review.state) for review in reviews] == [
        ("alice", "CHANGES_REQUESTED"),
        ("bob", "COMMENTED"),
        ("alice", "APPROVED"),
    ]
    assert review_decision(reviews) == "approved"
    assert [run.name for run in runs] == ["build", "test", "lint"]
    assert len(fake_github.requests_to("/check-runs")) == 2


def test_an_actions_only_repository_is_not_pending_because_of_its_empty_combined_status(fake_github):
    fake_github.add_check_run("octo", "svc", "abc123", name="build", conclusion="success")
    client = make_client(fake_github)
    combined = client.get_combined_status("octo", "svc", "abc123")
    assert combined.state == "pending" and combined.total_count == 0
    assert ci_state(client.list_check_runs("octo", "svc", "abc123"), combined) == "success"


def test_a_failing_commit_status_fails_ci(fake_github):
    fake_github.add_check_run("octo", "svc", "abc123", name="build", conclusion="success")
    fake_github.add_status("octo", "svc", "abc123", context="jenkins", state="failure")
    client = make_client(fake_github)
    combined = client.get_combined_status("octo", "svc", "abc123")
    assert [status.context for status in combined.statuses] == ["jenkins"]
    assert ci_state(client.list_check_runs("octo", "svc", "abc123"), combined) == "failure"


def test_it_waits_the_advertised_retry_after_on_a_secondary_rate_limit(fake_github):
    fake_github.add_pull("octo", "svc", 9)
    fake_github.secondary_rate_limit(2, status=403, retry_after=7)
    clock = FakeClock()
    pull = make_client(fake_github, clock).get_pull("octo", "svc", 9)
    assert pull.number == 9
    assert clock.waits == [7.0, 7.0]
    assert len(fake_github.requests) == 3


def test_it_backs_off_on_a_429_without_retry_after(fake_github):
    fake_github.add_pull("octo", "svc", 9)
    fake_github.secondary_rate_limit(1, status=429, retry_after=None)
    clock = FakeClock()
    make_client(fake_github, clock).get_pull("octo", "svc", 9)
    assert len(clock.waits) == 1 and clock.waits[0] >= 60


def test_it_gives_up_with_rate_limited_after_max_retries(fake_github):
    fake_github.add_pull("octo", "svc", 9)
    fake_github.secondary_rate_limit(5, status=429, retry_after=3)
    clock = FakeClock()
    with pytest.raises(RateLimitedError) as caught:
        make_client(fake_github, clock, max_retries=2).get_pull("octo", "svc", 9)
    assert caught.value.retry_after == 3
    assert caught.value.status == 429
    assert clock.waits == [3.0, 3.0]


def test_it_does_not_block_longer_than_the_max_wait(fake_github):
    fake_github.add_pull("octo", "svc", 9)
    fake_github.secondary_rate_limit(1, retry_after=600)
    clock = FakeClock()
    with pytest.raises(RateLimitedError) as caught:
        make_client(fake_github, clock, max_rate_limit_wait=60).get_pull("octo", "svc", 9)
    assert caught.value.retry_after == 600
    assert clock.waits == []


def test_it_retries_a_server_error_then_succeeds(fake_github):
    fake_github.add_pull("octo", "svc", 10)
    fake_github.fail_next(1, 502)
    clock = FakeClock()
    pull = make_client(fake_github, clock).get_pull("octo", "svc", 10)
    assert pull.number == 10
    assert len(clock.waits) == 1 and clock.waits[0] > 0


def test_it_raises_transient_after_repeated_server_errors(fake_github):
    fake_github.add_pull("octo", "svc", 10)
    fake_github.fail_next(10, 503)
    clock = FakeClock()
    with pytest.raises(TransientAPIError) as caught:
        make_client(fake_github, clock, max_retries=3).get_pull("octo", "svc", 10)
    assert caught.value.status == 503
    assert len(fake_github.requests) == 4
    assert len(clock.waits) == 3


def test_it_does_not_repost_a_comment_after_a_server_error(fake_github):
    fake_github.fail_next(1, 502)
    with pytest.raises(TransientAPIError):
        make_client(fake_github).create_issue_comment("octo", "svc", 10, "Please review")
    assert len(fake_github.requests) == 1


def test_it_posts_an_issue_comment(fake_github):
    comment = make_client(fake_github).create_issue_comment("octo", "svc", 10, "Please review <b>now</b>")
    assert fake_github.comments[-1]["body"] == "Please review <b>now</b>"
    assert comment.id == fake_github.comments[-1]["id"]
    assert comment.html_url.startswith("https://github.com/octo/svc/pull/10#issuecomment-")


def test_it_waits_for_the_primary_reset_then_succeeds(fake_github):
    clock = FakeClock()
    fake_github.clock = clock
    fake_github.rate_limit_remaining = 0
    fake_github.rate_limit_reset = int(clock.now) + 45
    fake_github.add_pull("octo", "svc", 11)
    client = make_client(fake_github, clock)
    pull = client.get_pull("octo", "svc", 11)
    assert pull.number == 11
    assert len(clock.waits) == 1 and 45 <= clock.waits[0] <= client.max_rate_limit_wait
    assert client.rate_limit_remaining == fake_github.rate_limit - 1


def test_it_raises_rate_limited_when_the_primary_reset_is_too_far_away(fake_github):
    clock = FakeClock()
    fake_github.clock = clock
    fake_github.rate_limit_remaining = 0
    fake_github.rate_limit_reset = int(clock.now) + 1800
    fake_github.add_pull("octo", "svc", 11)
    client = make_client(fake_github, clock)
    with pytest.raises(RateLimitedError) as caught:
        client.get_pull("octo", "svc", 11)
    assert caught.value.retry_after == pytest.approx(1800, abs=1)
    assert client.rate_limit_remaining == 0
    assert client.rate_limit_reset == fake_github.rate_limit_reset
    # The next call does not spend a request GitHub would refuse anyway.
    sent = len(fake_github.requests)
    with pytest.raises(RateLimitedError):
        client.get_pull("octo", "svc", 11)
    assert len(fake_github.requests) == sent


def test_it_exposes_the_remaining_budget(fake_github):
    fake_github.add_pull("octo", "svc", 1)
    client = make_client(fake_github)
    client.get_pull("octo", "svc", 1)
    assert client.rate_limit_remaining == fake_github.rate_limit - 1
    assert client.rate_limit_reset == fake_github.rate_limit_reset


def test_a_missing_pull_request_is_a_permanent_error(fake_github):
    with pytest.raises(PermanentAPIError) as caught:
        make_client(fake_github).get_pull("octo", "svc", 404)
    assert caught.value.status == 404
    assert "Not Found" in str(caught.value)
    assert len(fake_github.requests) == 1


def test_bad_credentials_are_a_permanent_error(fake_github):
    fake_github.token = "right"
    fake_github.add_pull("octo", "svc", 1)
    with pytest.raises(PermanentAPIError) as caught:
        make_client(fake_github, token="wrong").get_pull("octo", "svc", 1)
    assert caught.value.status == 401


def test_it_decodes_a_file_and_returns_none_for_a_missing_one(fake_github):
    fake_github.set_contents("octo", "svc", ".github/CODEOWNERS", "* @octo/payments\n/docs/ @octo/writers\n" * 20)
    client = make_client(fake_github)
    assert client.get_contents("octo", "svc", ".github/CODEOWNERS") == "* @octo/payments\n/docs/ @octo/writers\n" * 20
    assert client.get_contents("octo", "svc", "CODEOWNERS") is None


def test_it_marks_a_draft_ready_for_review_over_graphql(fake_github):
    pull = fake_github.add_pull("octo", "svc", 13, draft=True)
    client = make_client(fake_github)
    result = client.mark_ready_for_review(pull["node_id"])
    assert result.is_draft is False and result.number == 13
    assert fake_github.requests[-1].path == "/graphql"
    assert client.get_pull("octo", "svc", 13).draft is False


def test_an_unknown_graphql_node_is_a_permanent_error(fake_github):
    with pytest.raises(PermanentAPIError, match="Could not resolve"):
        make_client(fake_github).mark_ready_for_review("PR_nope")


def test_it_talks_to_github_enterprise_under_api_v3(fake_github):
    pull = fake_github.add_pull("octo", "svc", 14, draft=True)
    clock = FakeClock()
    client = GitHubClient(base_url=fake_github.url + "/api/v3", sleep=clock.sleep, clock=clock)
    assert client.get_pull("octo", "svc", 14).number == 14
    assert fake_github.requests[-1].path == "/api/v3/repos/octo/svc/pulls/14"
    client.mark_ready_for_review(pull["node_id"])
    assert fake_github.requests[-1].path == "/api/graphql"


def test_a_server_slower_than_the_timeout_is_a_transient_error(fake_github):
    fake_github.add_pull("octo", "svc", 15)
    fake_github.delay_seconds = 1.0
    clock = FakeClock()
    with pytest.raises(TransientAPIError, match="Timeout"):
        make_client(fake_github, clock, timeout=(1.0, 0.1), max_retries=1).get_pull("octo", "svc", 15)
    assert len(clock.waits) == 1


def test_repository_names_are_quoted_into_the_path(fake_github):
    with pytest.raises(PermanentAPIError):
        make_client(fake_github).get_pull("octo", "../../admin", 1)
    assert fake_github.requests[-1].path == "/repos/octo/..%2F..%2Fadmin/pulls/1"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/octo/svc/pull/12", ("octo", "svc", 12)),
        ("https://github.com/octo/svc/pull/12/files", ("octo", "svc", 12)),
        ("https://ghe.example.com/platform/billing/pull/3", ("platform", "billing", 3)),
        ("https://api.github.com/repos/octo/svc/pulls/12", ("octo", "svc", 12)),
        ("https://ghe.example.com/api/v3/repos/octo/svc/pulls/5", ("octo", "svc", 5)),
    ],
)
def test_it_parses_pull_request_urls(url, expected):
    assert parse_pr_url(url) == expected


@pytest.mark.parametrize(
    "url", ["https://github.com/octo/svc/issues/12", "github.com/octo/svc/pull/1", "https://github.com/octo"]
)
def test_it_rejects_urls_that_are_not_pull_requests(url):
    with pytest.raises(ValueError):
        parse_pr_url(url)


def test_the_graphql_endpoint_follows_the_rest_base_url():
    assert graphql_url_for("https://api.github.com") == "https://api.github.com/graphql"
    assert graphql_url_for("https://ghe.example.com/api/v3/") == "https://ghe.example.com/api/graphql"


def test_a_repeated_listing_revalidates_every_page_and_reuses_the_cached_items(fake_github):
    for number in range(1, 6):
        fake_github.add_pull("octo", "svc", number)
    client = make_client(fake_github, page_size=2)
    first = client.list_pulls("octo", "svc")
    second = client.list_pulls("octo", "svc")
    assert second == first
    pages = fake_github.requests_to("/repos/octo/svc/pulls")
    assert len(pages) == 6
    assert all(request.header("If-None-Match") for request in pages[3:])
    assert fake_github.not_modified_count == 3
    assert fake_github.rate_limit_remaining == fake_github.rate_limit - 3


def test_a_pagination_link_to_another_host_is_refused(fake_github):
    fake_github.fail_next(
        1, 200, body=[], headers={"Link": '<http://elsewhere.example/repos/o/r/pulls?page=2>; rel="next"'}
    )
    with pytest.raises(PermanentAPIError, match="pagination link"):
        make_client(fake_github).list_pulls("octo", "svc")
    assert len(fake_github.requests) == 1


def test_an_unreachable_server_is_a_transient_error(fake_github):
    url = fake_github.url
    fake_github.stop()
    clock = FakeClock()
    client = GitHubClient(base_url=url, sleep=clock.sleep, clock=clock, max_retries=2)
    with pytest.raises(TransientAPIError):
        client.get_pull("octo", "svc", 1)
    assert len(clock.waits) == 2


def test_a_listing_that_is_not_a_list_is_a_permanent_error(fake_github):
    fake_github.fail_next(1, 200, body={"message": "surprise"})
    with pytest.raises(PermanentAPIError, match="unexpected list payload"):
        make_client(fake_github).list_reviews("octo", "svc", 1)
