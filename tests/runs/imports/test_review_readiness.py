"""A pull request waits for a reviewer only while the attempt it points at succeeded: the import keeps that
flag on the pull request as traces arrive, change and relink it, and the review queue reads the flag."""

import importlib

import pytest
from django.apps import apps

from runs.demo.tracing import fleet_tags, judge_span, write_trace
from runs.fleet.models import Attempt, Outcome, PullRequest
from runs.imports.services import import_run_execute
from runs.reviews.selectors import review_queue, review_queue_count
from tests.factories import make_attempt, make_migration, make_pull_request, make_repo
from tests.mlflow_support import verify_span

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("github_com")]

PR = "https://github.com/acme/api/pull/7"


def run_import(store_uri, exp):
    return import_run_execute(tracking_uri=store_uri, trigger="test", experiments=[exp])


def queued_urls() -> list[str]:
    """The queue's pull requests; its count, read from the kept flag alone, must agree with them."""
    urls = list(review_queue().values_list("url", flat=True))
    assert review_queue_count() == len(urls)
    return urls


def test_a_later_failed_attempt_takes_its_pull_request_out_of_the_queue_and_a_later_pass_puts_it_back(store_uri, exp):
    write_trace(experiment_id=exp, tags=fleet_tags(repo="acme/api", attempt=1, pr_url=PR), spans=[verify_span()])
    run_import(store_uri, exp)
    assert queued_urls() == [PR]

    failing = verify_span(passed=False, output="[ERROR] BUILD FAILURE")
    write_trace(experiment_id=exp, tags=fleet_tags(repo="acme/api", attempt=2, pr_url=PR), spans=[failing])
    run_import(store_uri, exp)
    pull = PullRequest.objects.get()
    assert (pull.attempt.number, pull.attempt.outcome, pull.attempt_ready) == (2, Outcome.VERIFY_FAILED, False)
    assert queued_urls() == []

    write_trace(experiment_id=exp, tags=fleet_tags(repo="acme/api", attempt=3, pr_url=PR), spans=[verify_span()])
    run_import(store_uri, exp)
    assert queued_urls() == [PR]


def test_a_judge_veto_logged_after_the_import_takes_the_pull_request_out_of_the_queue(store_uri, exp):
    import mlflow

    trace_id = write_trace(
        experiment_id=exp, tags=fleet_tags(repo="acme/api", pr_url=PR), spans=[verify_span(), judge_span()]
    )
    run_import(store_uri, exp)
    assert queued_urls() == [PR]

    mlflow.log_feedback(trace_id=trace_id, name="judge", value="veto", rationale="Unrelated changes in 14 files.")
    assert run_import(store_uri, exp).updated == 1

    assert Attempt.objects.get(trace_id=trace_id).outcome == Outcome.JUDGE_REJECTED
    assert PullRequest.objects.get().attempt_ready is False
    assert queued_urls() == []


def test_a_pull_request_whose_attempt_was_deleted_leaves_the_queue():
    attempt = make_attempt(make_migration("java-21"), make_repo("acme/api"), outcome=Outcome.SUCCEEDED)
    pull = make_pull_request(attempt, draft=True)
    assert queued_urls() == [pull.url]

    pull.attempt.delete()

    assert queued_urls() == []


def test_the_schema_migration_fills_the_flag_from_each_pull_requests_attempt():
    migration, repo = make_migration("java-21"), make_repo("acme/api")
    passed = make_pull_request(make_attempt(migration, repo, outcome=Outcome.SUCCEEDED, number=1), draft=True)
    failed = make_pull_request(make_attempt(migration, repo, outcome=Outcome.VERIFY_FAILED, number=2), draft=True)
    baseline = make_pull_request(make_attempt(migration, repo, number=0, phase="baseline"), draft=True)
    PullRequest.objects.update(attempt_ready=False)
    PullRequest.objects.filter(pk=failed.pk).update(attempt_ready=True)

    importlib.import_module("runs.migrations.0022_pull_request_attempt_ready").ready_fill(apps, None)

    ready = dict(PullRequest.objects.values_list("pk", "attempt_ready"))
    assert ready == {passed.pk: True, failed.pk: False, baseline.pk: False}
