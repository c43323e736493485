"""Deciding from the queue in place (HTMX): the row is replaced, the total follows, a double click records once."""

import json

import pytest
from django.urls import reverse

from fleetui.common.roles import REVIEWER, VIEWER
from runs.fleet.models import AuditEvent
from runs.reviews.models import ReviewDecision
from tests.factories import make_migration, make_team
from tests.runs.reviews.queue_support import HTMX, login, queued_pr

pytestmark = pytest.mark.django_db


def test_approving_in_place_answers_with_the_decided_row_and_the_new_total(client):
    reviewer = login(client, REVIEWER)
    team = make_team("payments")
    pr = queued_pr("acme/pay-api", 1, team=team)
    queued_pr("acme/pay-worker", 2, team=team)
    queued_pr("acme/other", 3)

    response = client.post(
        reverse("review-approve", args=[pr.pk]), {"next": "/reviews/?team=payments", "cols": "9"}, **HTMX
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert body.strip().startswith(f'<tr id="pr-{pr.pk}"') and "approved" in body and reviewer.username in body
    assert 'colspan="8"' in body
    event = json.loads(response["HX-Trigger"])["reviewDecided"]
    assert event == {"pr": pr.pk, "remaining": 1, "remaining_all": 2}  # one left of payments, two in all
    decision = ReviewDecision.objects.get()
    assert (decision.pull_request, decision.decision, decision.reviewer) == (pr, "approve", reviewer)
    assert AuditEvent.objects.filter(verb="review.approve", actor=reviewer).count() == 1


def test_a_double_click_on_approve_records_one_decision_and_one_audit_event(
    client, eager_github, django_capture_on_commit_callbacks
):
    login(client, REVIEWER)
    pr = queued_pr("acme/pay-api", 7, fake=eager_github)
    url = reverse("review-approve", args=[pr.pk])

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"next": "/reviews/"}, **HTMX)
        second = client.post(url, {"next": "/reviews/"}, **HTMX)

    assert first.status_code == second.status_code == 200
    assert "already recorded" not in first.content.decode()
    assert "already recorded" in second.content.decode()
    assert ReviewDecision.objects.count() == 1
    assert AuditEvent.objects.filter(verb="review.approve").count() == 1
    # GitHub was asked once to mark the draft ready.
    assert len(eager_github.requests_to("/graphql")) == 1
    assert eager_github.pulls[("acme", "pay-api", 7)]["draft"] is False


def test_requesting_changes_in_place_without_a_reason_leaves_the_row_and_says_why(client):
    login(client, REVIEWER)
    pr = queued_pr("acme/pay-api", 1)

    response = client.post(reverse("review-request-changes", args=[pr.pk]), {"reason": "  "}, **HTMX)

    assert response["HX-Retarget"] == f"#pr-{pr.pk}-message"
    assert response["HX-Reswap"] == "innerHTML"
    assert "say what to change" in response.content.decode()
    assert not ReviewDecision.objects.exists()


def test_requesting_changes_in_place_records_the_reason_and_escapes_it_in_the_row(client):
    login(client, REVIEWER)
    pr = queued_pr("acme/pay-api", 1)

    response = client.post(
        reverse("review-request-changes", args=[pr.pk]),
        {"reason": "<img src=x onerror=alert(1)> deleted tests", "tags": "deleted tests"},
        **HTMX,
    )

    body = response.content.decode()
    assert "sent back for changes" in body
    assert "<img src=x" not in body and "&lt;img src=x" in body
    decision = ReviewDecision.objects.get()
    assert decision.decision == "request_changes" and [p.slug for p in decision.patterns.all()] == ["deleted-tests"]
    assert AuditEvent.objects.get(verb="review.request_changes").data["tags"] == ["deleted-tests"]


def test_the_other_decision_on_a_decided_attempt_is_refused_in_place(client):
    login(client, REVIEWER)
    pr = queued_pr("acme/pay-api", 1)
    client.post(reverse("review-approve", args=[pr.pk]), **HTMX)
    response = client.post(reverse("review-request-changes", args=[pr.pk]), {"reason": "no"}, **HTMX)
    assert response["HX-Retarget"] == f"#pr-{pr.pk}-message"
    assert "already decided" in response.content.decode()
    assert list(ReviewDecision.objects.values_list("decision", flat=True)) == ["approve"]


def test_without_javascript_approving_returns_to_the_same_filters_at_the_next_row(client):
    login(client, REVIEWER)
    pr = queued_pr("acme/pay-api", 1)
    following = queued_pr("acme/pay-worker", 2)

    response = client.post(
        reverse("review-approve", args=[pr.pk]),
        {"next": "/reviews/?team=payments&order=repo", "anchor": f"pr-{following.pk}"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/reviews/?team=payments&order=repo#pr-{following.pk}"
    # An anchor that is not an element id is dropped.
    other = queued_pr("acme/third", 3)
    response = client.post(reverse("review-approve", args=[other.pk]), {"next": "/reviews/", "anchor": '"><x'})
    assert response["Location"] == "/reviews/"


def test_a_viewer_cannot_decide_in_place(client):
    login(client, VIEWER)
    pr = queued_pr("acme/pay-api", 1)
    assert client.post(reverse("review-approve", args=[pr.pk]), **HTMX).status_code == 403
    assert not ReviewDecision.objects.exists()


def test_each_decision_in_the_audit_trail_names_the_reviewer_and_the_pull_request(client):
    reviewer = login(client, REVIEWER)
    migration = make_migration("java-21")
    approved = queued_pr("acme/pay-api", 1, migration=migration)
    sent_back = queued_pr("acme/pay-worker", 2, migration=migration)
    client.post(reverse("review-approve", args=[approved.pk]), **HTMX)
    client.post(reverse("review-request-changes", args=[sent_back.pk]), {"reason": "tests removed"}, **HTMX)

    events = AuditEvent.objects.filter(verb__startswith="review.").order_by("id")
    assert [(e.verb, e.actor, e.target_id, e.migration) for e in events] == [
        ("review.approve", reviewer, str(approved.pk), migration),
        ("review.request_changes", reviewer, str(sent_back.pk), migration),
    ]
    assert events[1].data["reason"] == "tests removed"
    page = client.get(reverse("activity"), {"verb": "review."}).content.decode()
    assert "review.approve" in page and "review.request_changes" in page
