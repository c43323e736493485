"""A decision push whose worker is gone is queued again once, and its comment is not posted twice; a push whose
worker still beats is left alone. One test kills a real worker process with SIGKILL in the middle of the POST."""

import os
import signal
import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from fleetui.common.models import heartbeat_timeout
from runs.github.client import GitHubClient
from runs.reviews.models import ReviewDecision
from runs.reviews.services import review_decision_push, review_decision_record, review_decisions_recover
from tests.celery_support import broker_in_use, wait_for, worker_process
from tests.conftest import need_service
from tests.factories import make_attempt, make_migration, make_pull_request, make_repo, make_user

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Stands for the worker process dying: nothing after it runs, no handler sees it."""


def decided(fake, decision: str, *, number: int = 7) -> ReviewDecision:
    fake.add_pull("org", "svc", number, draft=True)
    attempt = make_attempt(make_migration("java-21"), make_repo("org/svc"), outcome="succeeded")
    pr = make_pull_request(attempt, number=number, draft=True)
    row, _ = review_decision_record(
        pull_request=pr, decision=decision, reviewer=make_user(), reason="It deleted FooTest.", comment=True
    )
    return row


def time_passes(pk: int) -> None:
    """The heartbeat timeout passes: the last beat and the queueing time are now that much older."""
    gone = timezone.now() - timedelta(seconds=2 * heartbeat_timeout())
    ReviewDecision.objects.filter(pk=pk, heartbeat_at__isnull=False).update(heartbeat_at=gone)
    ReviewDecision.objects.filter(pk=pk, queued_at__isnull=False).update(queued_at=gone)


def dying_client(fake, method: str) -> GitHubClient:
    client = GitHubClient(base_url=fake.url)
    real = getattr(client, method)

    def call(*args, **kwargs):
        real(*args, **kwargs)
        raise WorkerKilled(method)

    setattr(client, method, call)
    return client


def test_an_approval_whose_worker_died_is_queued_again_once_and_then_done(
    fake_github, django_capture_on_commit_callbacks
):
    decision = decided(fake_github, "approve")
    with pytest.raises(WorkerKilled):
        review_decision_push(decision_id=decision.pk, client=dying_client(fake_github, "mark_ready_for_review"))
    assert ReviewDecision.objects.get(pk=decision.pk).github_status == "running"
    time_passes(decision.pk)

    with django_capture_on_commit_callbacks() as queued:
        first = review_decisions_recover()
        second = review_decisions_recover()
    status = review_decision_push(decision_id=decision.pk, client=GitHubClient(base_url=fake_github.url))

    assert first.retried == [decision.pk] and not second and len(queued) == 1
    assert status == "done" and fake_github.pulls[("org", "svc", 7)]["draft"] is False


def test_a_comment_whose_worker_died_after_posting_is_not_posted_again(fake_github):
    decision = decided(fake_github, "request_changes")
    with pytest.raises(WorkerKilled):
        review_decision_push(decision_id=decision.pk, client=dying_client(fake_github, "create_issue_comment"))

    time_passes(decision.pk)
    review_decisions_recover()
    status = review_decision_push(decision_id=decision.pk, client=GitHubClient(base_url=fake_github.url))

    assert status == "done" and len(fake_github.comments) == 1
    assert ReviewDecision.objects.get(pk=decision.pk).comment_url == fake_github.comments[0]["html_url"]


def test_a_fresh_push_is_never_recovered(fake_github):
    queued = decided(fake_github, "approve")
    with pytest.raises(WorkerKilled):
        review_decision_push(decision_id=queued.pk, client=dying_client(fake_github, "mark_ready_for_review"))

    assert not review_decisions_recover()
    assert ReviewDecision.objects.get(pk=queued.pk).github_status == "running"


def test_a_push_whose_late_original_finishes_after_its_recovery_writes_nothing(fake_github):
    decision = decided(fake_github, "approve")
    with pytest.raises(WorkerKilled):
        review_decision_push(decision_id=decision.pk, client=dying_client(fake_github, "mark_ready_for_review"))
    stale = ReviewDecision.objects.get(pk=decision.pk)
    time_passes(decision.pk)
    review_decisions_recover()

    assert not ReviewDecision.objects.filter(pk=decision.pk, claim_token=stale.claim_token).exists()
    assert ReviewDecision.objects.get(pk=decision.pk).github_status == "pending"


def test_pushes_that_keep_losing_their_worker_are_shown_as_failed(fake_github):
    decision = decided(fake_github, "approve")
    for _ in range(ReviewDecision.RECOVERY_LIMIT):
        with pytest.raises(WorkerKilled):
            review_decision_push(decision_id=decision.pk, client=dying_client(fake_github, "get_pull"))
        time_passes(decision.pk)
        review_decisions_recover()

    row = ReviewDecision.objects.get(pk=decision.pk)
    assert row.github_status == "failed" and "Workers kept stopping" in row.github_error


# -- a real worker, killed -----------------------------------------------------------------------------------------

HEARTBEAT_TIMEOUT = 3.0


def redis_available() -> bool:
    if not django_settings.REDIS_URL:
        return False
    try:
        import redis

        redis.Redis.from_url(django_settings.REDIS_URL, socket_timeout=2).ping()
    except Exception:
        return False
    return True


@pytest.fixture(params=["embedded", "redis"])
def broker(request, tmp_path, settings):
    if request.param == "redis":
        need_service("Redis (REDIS_URL)", redis_available())
        import redis

        url = django_settings.REDIS_URL
        redis.Redis.from_url(url).flushdb()
    else:
        url = f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}"
    settings.CELERY_BROKER_URL = url
    with broker_in_use(url):
        yield url


@pytest.mark.slow
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_in_the_middle_of_posting_a_comment_leaves_one_comment_and_a_done_push(
    broker, fake_github, settings
):
    settings.FLEETUI_HEARTBEAT_TIMEOUT = HEARTBEAT_TIMEOUT
    env = {
        "GITHUB_API_URL": fake_github.url,
        "GITHUB_TIMEOUT": "60",
        "FLEETUI_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
    }
    # GitHub creates the comment at once and answers a minute later: the worker is killed while it waits.
    fake_github.answer_late("POST", "/issues/7/comments", 60.0)
    with worker_process(broker=broker, env=env) as first:
        decision = decided(fake_github, "request_changes")
        assert wait_for(lambda: fake_github.comments, timeout=60), "the worker never posted"
        time.sleep(HEARTBEAT_TIMEOUT * 1.5)  # past the timeout: only the worker's heartbeat keeps it
        alive = review_decisions_recover()
        status_while_alive = ReviewDecision.objects.get(pk=decision.pk).github_status
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = time.monotonic()
        assert wait_for(lambda: review_decisions_recover(), timeout=30, interval=0.2)
        recovered_after = time.monotonic() - killed_at
    with worker_process(broker=broker, env=env):
        done = wait_for(lambda: ReviewDecision.objects.get(pk=decision.pk).github_status == "done", timeout=60)
        finished_after = time.monotonic() - killed_at

    row = ReviewDecision.objects.get(pk=decision.pk)
    print(f"\nrecovered {recovered_after:.1f} s after SIGKILL, done {finished_after:.1f} s after ({broker[:5]})")
    assert not alive and status_while_alive == "running"
    assert done, f"the push never finished: {row.github_status} {row.github_error}"
    assert len(fake_github.comments) == 1
    assert row.comment_url == fake_github.comments[0]["html_url"]
