"""The reviewer gate: queue, approve and request changes (pages and API), GitHub updates, patterns, calibration."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fleetui.celery import app as celery_app
from fleetui.common.roles import ADMIN, MIGRATION_OWNER, REVIEWER, VIEWER
from runs.fleet.models import AuditEvent, PullRequest
from runs.reviews.models import ReviewDecision, ReviewPattern
from runs.reviews.services import review_decision_push
from tests.factories import (
    make_attempt,
    make_judge,
    make_migration,
    make_pull_request,
    make_repo,
    make_user,
    make_verifier_result,
)

pytestmark = pytest.mark.django_db

XSS = "<script>alert('x')</script>"


@pytest.fixture
def github(settings, fake_github):
    """Tasks run eagerly against the fake GitHub."""
    settings.GITHUB_API_URL = fake_github.url
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield fake_github
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


def login(client, role):
    user = make_user(role=role)
    client.force_login(user)
    return user


def agent_pr(repo: str, number: int, *, migration=None, verdict="approve", outcome="succeeded", fake=None, **fields):
    """A draft pull request from an attempt whose verifiers and judge passed (also served by `fake`)."""
    attempt = make_attempt(migration or make_migration("java-21"), make_repo(repo), outcome=outcome)
    make_verifier_result(attempt, passed=True, kind="maven")
    make_judge(attempt, verdict=verdict, rationale=f"Looks complete for {repo}.")
    if fake is not None:
        owner, name = repo.split("/")
        fake.add_pull(owner, name, number, draft=True)
    return make_pull_request(attempt, number=number, draft=fields.pop("draft", True), **fields)


# --- queue ------------------------------------------------------------------------------------------------------


def test_the_queue_lists_undecided_drafts_of_passing_attempts_oldest_first(client):
    login(client, VIEWER)
    migration = make_migration("java-21")
    newer = agent_pr("org/newer", 1, migration=migration)
    older = agent_pr("org/older", 2, migration=migration)
    older.attempt.ended_at = newer.attempt.ended_at.replace(year=2020)
    older.attempt.save()
    agent_pr("org/failed", 3, migration=migration, outcome="verify_failed")
    agent_pr("org/ready", 4, migration=migration, draft=False)
    agent_pr("org/merged", 5, migration=migration, state="merged")
    decided = agent_pr("org/decided", 6, migration=migration)
    ReviewDecision.objects.create(
        pull_request=decided, attempt=decided.attempt, migration=migration, decision="approve"
    )

    body = client.get(reverse("migration-reviews", args=["java-21"])).content.decode()

    assert body.index("org/older") < body.index("org/newer")
    for absent in ("org/failed", "org/ready", "org/merged", "org/decided"):
        assert absent not in body.split("Recent decisions")[0]
    assert reverse("attempt-detail", args=[older.attempt.trace_id]) in body
    assert f"{older.url}/files" in body
    assert "Looks complete for org/older." in body


def test_the_queue_escapes_untrusted_text_and_links_only_web_urls(client):
    login(client, REVIEWER)
    pr = agent_pr("org/svc", 1)
    pr.attempt.judge.rationale = XSS
    pr.attempt.judge.save()
    PullRequest.objects.filter(pk=pr.pk).update(url="javascript:alert(1)//github.com/org/svc/pull/1")
    body = client.get(reverse("reviews")).content.decode()
    assert XSS not in body and "&lt;script&gt;" in body
    assert 'href="javascript:' not in body


def test_the_queue_page_and_api_use_a_bounded_number_of_queries(client, django_assert_max_num_queries):
    login(client, REVIEWER)
    migration = make_migration("java-21")
    for i in range(12):
        agent_pr(f"org/svc-{i}", i + 1, migration=migration)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("migration-reviews", args=["java-21"])).status_code == 200
    with django_assert_max_num_queries(10):
        answer = client.get("/api/reviews", {"migration": "java-21"}).json()
    assert answer["count"] == 12 and len(answer["results"]) == 12
    item = answer["results"][0]
    assert item["pr"]["draft"] is True and item["diff_url"].endswith("/files")
    assert item["judge"]["verdict"] == "approve" and item["verifiers"][0]["passed"] is True


def test_the_queue_reads_no_attempts_trace_outline_or_problems(client):
    login(client, REVIEWER)
    migration = make_migration("java-21")
    for i in range(3):
        agent_pr(f"org/svc-{i}", i + 1, migration=migration)

    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("migration-reviews", args=["java-21"])).status_code == 200

    sql = " ".join(query["sql"] for query in queries.captured_queries)
    assert "runs_pullrequest" in sql
    assert '"span_tree"' not in sql and '"problems"' not in sql, "the largest columns are the attempt page's"


# --- permissions ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [VIEWER, MIGRATION_OWNER])
def test_only_reviewers_and_admins_may_decide(client, role):
    login(client, role)
    pr = agent_pr("org/svc", 1)
    assert client.post(reverse("review-approve", args=[pr.pk])).status_code == 403
    assert client.post(reverse("review-request-changes", args=[pr.pk]), {"reason": "no"}).status_code == 403
    assert client.post(reverse("review-bulk-approve"), {"pr": [pr.pk], "confirm": "yes"}).status_code == 403
    assert client.post(f"/api/pull-requests/{pr.pk}/approve").status_code == 403
    assert client.post(f"/api/pull-requests/{pr.pk}/request-changes").status_code == 403
    assert not ReviewDecision.objects.exists()


def test_an_admin_may_approve(client, github, django_capture_on_commit_callbacks):
    login(client, ADMIN)
    pr = agent_pr("org/svc", 1, fake=github)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/pull-requests/{pr.pk}/approve", {"reason": "fine"}, content_type="application/json"
        )
    assert response.status_code == 201


# --- approve ----------------------------------------------------------------------------------------------------


def test_approving_marks_the_draft_ready_for_review_on_github(client, github, django_capture_on_commit_callbacks):
    reviewer = login(client, REVIEWER)
    pr = agent_pr("org/svc", 4, fake=github)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("review-approve", args=[pr.pk]), {"reason": "clean change"})

    assert response.status_code == 302
    assert github.pulls[("org", "svc", 4)]["draft"] is False
    decision = ReviewDecision.objects.get()
    assert (decision.decision, decision.reviewer, decision.reason) == ("approve", reviewer, "clean change")
    assert decision.github_status == "done" and decision.github_done_at
    pr.refresh_from_db()
    assert pr.draft is False
    event = AuditEvent.objects.get(verb="review.approve")
    assert event.actor == reviewer and event.migration == pr.migration


def test_a_double_approval_records_one_decision(client, github, django_capture_on_commit_callbacks):
    login(client, REVIEWER)
    pr = agent_pr("org/svc", 4, fake=github)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("review-approve", args=[pr.pk]))
        client.post(reverse("review-approve", args=[pr.pk]))
        again = client.post(f"/api/pull-requests/{pr.pk}/approve")
    assert again.status_code == 200
    assert ReviewDecision.objects.count() == 1
    assert AuditEvent.objects.filter(verb="review.approve").count() == 1
    assert len(github.requests_to("/graphql")) == 1


def test_a_github_error_is_shown_on_the_decision(client, github, django_capture_on_commit_callbacks):
    login(client, REVIEWER)
    pr = agent_pr("org/not-on-github", 9)  # the fake does not know it: 404
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("review-approve", args=[pr.pk]))
    decision = ReviewDecision.objects.get()
    assert decision.github_status == "failed" and "404" in decision.github_error
    body = client.get(reverse("reviews")).content.decode()
    assert "GitHub error" in body


def test_the_decision_waits_as_pending_until_its_task_runs(client, github):
    login(client, REVIEWER)
    pr = agent_pr("org/svc", 4, fake=github)
    client.post(reverse("review-approve", args=[pr.pk]))  # on-commit callbacks not run: no worker yet
    decision = ReviewDecision.objects.get()
    assert decision.github_status == "pending"
    assert github.pulls[("org", "svc", 4)]["draft"] is True
    assert b"pending on GitHub" in client.get(reverse("reviews")).content

    assert review_decision_push(decision_id=decision.pk) == "done"
    assert review_decision_push(decision_id=decision.pk) == "skipped"
    assert github.pulls[("org", "svc", 4)]["draft"] is False


# --- request changes --------------------------------------------------------------------------------------------


def test_requesting_changes_records_tags_comments_and_marks_the_attempt_for_rerun(
    client, github, django_capture_on_commit_callbacks
):
    login(client, REVIEWER)
    migration = make_migration("java-21")
    ReviewPattern.objects.create(migration=migration, slug="deleted-tests", label="deleted tests")
    pr = agent_pr("org/svc", 5, migration=migration, fake=github)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("review-request-changes", args=[pr.pk]),
            {"reason": "It removed FooTest.", "tag": ["deleted-tests"], "tags": "New client per call", "comment": "on"},
        )

    decision = ReviewDecision.objects.get()
    assert decision.decision == "request_changes"
    assert sorted(p.slug for p in decision.patterns.all()) == ["deleted-tests", "new-client-per-call"]
    assert ReviewPattern.objects.filter(migration=migration).count() == 2
    assert decision.attempt == pr.attempt
    [comment] = github.comments
    assert "It removed FooTest." in comment["body"] and "New client per call" in comment["body"]
    assert decision.github_status == "done" and decision.comment_url.endswith(f"#issuecomment-{comment['id']}")
    assert github.pulls[("org", "svc", 5)]["draft"] is True
    assert AuditEvent.objects.filter(verb="review.request_changes").count() == 1


def test_requesting_changes_needs_a_reason_or_a_tag(client):
    login(client, REVIEWER)
    pr = agent_pr("org/svc", 1)
    response = client.post(f"/api/pull-requests/{pr.pk}/request-changes", {}, content_type="application/json")
    assert response.status_code == 400
    assert not ReviewDecision.objects.exists()


def test_an_attempt_already_approved_cannot_also_be_sent_back(client):
    login(client, REVIEWER)
    pr = agent_pr("org/svc", 1)
    assert client.post(f"/api/pull-requests/{pr.pk}/approve").status_code == 201
    response = client.post(
        f"/api/pull-requests/{pr.pk}/request-changes", {"reason": "x"}, content_type="application/json"
    )
    assert response.status_code == 409


def test_disagreements_with_the_judge_show_on_the_calibration_page(client):
    login(client, REVIEWER)
    migration = make_migration("java-21")
    lenient = agent_pr("org/lenient", 1, migration=migration, verdict="approve")
    strict = agent_pr("org/strict", 2, migration=migration, verdict="reject", outcome="judge_rejected")
    agreed = agent_pr("org/agreed", 3, migration=migration, verdict="approve")
    client.post(
        f"/api/pull-requests/{lenient.pk}/request-changes",
        {"reason": "unrelated edits", "tags": ["unrelated changes"]},
        content_type="application/json",
    )
    client.post(f"/api/pull-requests/{strict.pk}/approve", {"reason": "fine"}, content_type="application/json")
    client.post(f"/api/pull-requests/{agreed.pk}/approve", {}, content_type="application/json")

    page = client.get(reverse("judge-calibration"), {"migration": "java-21"})

    calibration = page.context["calibration"]
    assert (calibration.decided, calibration.judge_too_lenient, calibration.judge_too_strict) == (3, 1, 1)
    assert calibration.by_tag == [("unrelated changes", 1)]
    body = page.content.decode()
    assert "org/lenient" in body and "org/strict" in body and "org/agreed" not in body


# --- bulk approve -----------------------------------------------------------------------------------------------


def test_bulk_approve_asks_for_confirmation_with_the_count_then_approves(
    client, github, django_capture_on_commit_callbacks
):
    login(client, REVIEWER)
    prs = [agent_pr(f"org/svc-{i}", i + 1, fake=github) for i in range(3)]
    ids = [pr.pk for pr in prs[:2]]

    confirm = client.post(reverse("review-bulk-approve"), {"pr": ids})

    assert confirm.status_code == 200
    assert b"Approve 2 pull requests?" in confirm.content
    assert not ReviewDecision.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("review-bulk-approve"), {"pr": ids, "confirm": "yes", "next": "/reviews/"})

    assert done.status_code == 302
    assert set(ReviewDecision.objects.values_list("pull_request_id", flat=True)) == set(ids)
    assert [github.pulls[("org", f"svc-{i}", i + 1)]["draft"] for i in range(3)] == [False, False, True]
    assert AuditEvent.objects.filter(verb="review.approve").count() == 2


def test_bulk_approve_refuses_an_outside_redirect(client):
    login(client, REVIEWER)
    pr = agent_pr("org/svc", 1)
    response = client.post(
        reverse("review-bulk-approve"), {"pr": [pr.pk], "confirm": "yes", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("reviews")


# --- patterns ---------------------------------------------------------------------------------------------------


def test_the_patterns_page_and_api_count_tags_with_examples_and_notes(client):
    login(client, REVIEWER)
    migration = make_migration("java-21")
    for i, tags in enumerate([["deleted tests"], ["deleted tests", "unrelated changes"], ["deleted tests"]]):
        pr = agent_pr(f"org/svc-{i}", i + 1, migration=migration)
        client.post(
            f"/api/pull-requests/{pr.pk}/request-changes",
            {"reason": f"reason {i} {XSS}", "tags": tags},
            content_type="application/json",
        )

    page = client.get(reverse("review-patterns", args=["java-21"]))
    api = client.get("/api/migrations/java-21/review-patterns").json()

    assert [(s.pattern.label, s.count) for s in page.context["summaries"]] == [
        ("deleted tests", 3),
        ("unrelated changes", 1),
    ]
    body = page.content.decode()
    assert XSS not in body
    assert "- deleted tests (3 times)" in page.context["notes"]
    assert api["count"] == 2 and api["results"][0]["slug"] == "deleted-tests"
    assert len(api["results"][0]["examples"]) == 3
    assert api["results"][0]["examples"][0]["attempt_url"].startswith("/attempts/")
    assert "deleted tests" in api["notes"]


def test_the_openapi_document_describes_the_review_endpoints(client):
    login(client, VIEWER)
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/reviews",
        "/pull-requests/{id}/approve",
        "/pull-requests/{id}/request-changes",
        "/migrations/{slug}/review-patterns",
        "/pull-requests/sync",
    ):
        assert path in paths


@pytest.mark.parametrize("role", [VIEWER, REVIEWER, MIGRATION_OWNER, ADMIN])
def test_every_review_page_renders_for_every_role(client, role):
    login(client, role)
    migration = make_migration("java-21")
    agent_pr("org/svc", 1, migration=migration)
    for url in (
        reverse("reviews"),
        reverse("migration-reviews", args=["java-21"]),
        reverse("review-patterns", args=["java-21"]),
        reverse("judge-calibration"),
        reverse("review-decisions-status"),
        reverse("pull-request-sync"),
    ):
        assert client.get(url).status_code == 200, url


def test_the_decisions_partial_polls_only_while_a_decision_is_pending_on_github(client):
    login(client, REVIEWER)
    pr = agent_pr("org/svc", 1)
    client.post(reverse("review-approve", args=[pr.pk]))
    url = reverse("review-decisions-status")
    assert b"every 3s" in client.get(url).content
    ReviewDecision.objects.update(github_status="done")
    settled = client.get(url).content
    assert b"every 3s" not in settled
    # It still refreshes once when a decision is recorded in place on the page.
    assert b'hx-trigger="reviewDecided from:body"' in settled
