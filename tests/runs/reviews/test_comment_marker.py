"""A reviewer's comment is posted on GitHub once: after a POST whose answer never came, the retry looks for the
comment's hidden marker before posting again (the real client against the fake GitHub server)."""

from datetime import UTC, datetime

import pytest

from fleetui.common.errors import TransientAPIError
from runs.github.client import GitHubClient
from runs.reviews.models import ReviewDecision
from runs.reviews.services import review_comment_marker, review_decision_push, review_decision_record
from tests.factories import make_attempt, make_migration, make_pull_request, make_repo, make_user

pytestmark = pytest.mark.django_db


def sent_back(fake, *, number: int = 7, reason: str = "It deleted FooTest.") -> ReviewDecision:
    """A request for changes with a comment, recorded but not yet pushed to GitHub."""
    fake.add_pull("org", "svc", number, draft=True)
    attempt = make_attempt(make_migration("java-21"), make_repo("org/svc"), outcome="succeeded")
    pr = make_pull_request(attempt, number=number, draft=True)
    row, _ = review_decision_record(
        pull_request=pr, decision="request_changes", reviewer=make_user(), reason=reason, comment=True
    )
    return row


def posts(fake) -> list:
    return [request for request in fake.requests_to("/comments") if request.method == "POST"]


def test_a_comment_github_created_before_the_post_timed_out_is_found_and_not_posted_again(fake_github):
    decision = sent_back(fake_github)
    fake_github.answer_late("POST", "/issues/7/comments", 3.0)  # created at once, answered after the timeout
    client = GitHubClient(base_url=fake_github.url, timeout=1)

    with pytest.raises(TransientAPIError):
        review_decision_push(decision_id=decision.pk, client=client)
    waiting = ReviewDecision.objects.get(pk=decision.pk)
    status = review_decision_push(decision_id=decision.pk, client=client)

    decision.refresh_from_db()
    [comment] = fake_github.comments
    assert waiting.github_status == "pending" and waiting.comment_attempted_at is not None
    assert status == "done" and len(posts(fake_github)) == 1
    assert decision.comment_url == comment["html_url"]


def test_the_comment_ends_in_a_hidden_marker_naming_its_decision(fake_github):
    decision = sent_back(fake_github)

    review_decision_push(decision_id=decision.pk, client=GitHubClient(base_url=fake_github.url))

    [comment] = fake_github.comments
    assert comment["body"].startswith("Changes requested by a reviewer")
    assert comment["body"].endswith(f"\n<!-- fleetui:decision:{decision.pk} -->")
    assert review_comment_marker(decision) == f"<!-- fleetui:decision:{decision.pk} -->"


def test_a_first_post_does_not_list_the_comments(fake_github):
    decision = sent_back(fake_github)

    review_decision_push(decision_id=decision.pk, client=GitHubClient(base_url=fake_github.url))

    assert [request.method for request in fake_github.requests_to("/comments")] == ["POST"]


def test_a_comment_that_never_reached_github_is_posted_on_the_retry(fake_github):
    decision = sent_back(fake_github)
    fake_github.fail_next(1, 502)  # GitHub answered: nothing was created
    client = GitHubClient(base_url=fake_github.url, max_retries=0)

    with pytest.raises(TransientAPIError):
        review_decision_push(decision_id=decision.pk, client=client)
    assert review_decision_push(decision_id=decision.pk, client=client) == "done"

    assert len(fake_github.comments) == 1 and len(posts(fake_github)) == 2


def test_another_decisions_marker_on_the_same_pull_request_does_not_count(fake_github):
    decision = sent_back(fake_github)
    other = f"<!-- fleetui:decision:{decision.pk}0 -->"
    GitHubClient(base_url=fake_github.url).create_issue_comment("org", "svc", 7, f"Earlier.\n\n{other}")
    ReviewDecision.objects.filter(pk=decision.pk).update(comment_attempted_at=decision.created_at)

    assert review_decision_push(decision_id=decision.pk, client=GitHubClient(base_url=fake_github.url)) == "done"

    assert len(fake_github.comments) == 2
    assert fake_github.comments[1]["body"].endswith(review_comment_marker(decision))


def test_issue_comments_are_listed_in_githubs_shape_across_pages_and_since_a_time(fake_github):
    client = GitHubClient(base_url=fake_github.url, page_size=2)
    for index in range(5):
        client.create_issue_comment("org", "svc", 3, f"comment {index}")
    client.create_issue_comment("org", "svc", 4, "another pull request")

    listed = client.list_issue_comments("org", "svc", 3)
    none_since = client.list_issue_comments("org", "svc", 3, since=datetime(2999, 1, 1, tzinfo=UTC))

    assert [comment.body for comment in listed] == [f"comment {index}" for index in range(5)]
    assert all(comment.html_url.endswith(f"#issuecomment-{comment.id}") for comment in listed)
    assert none_since == []
    assert fake_github.comments[0]["user"]["login"] == "octocat"  # GitHub's example comment, re-keyed
