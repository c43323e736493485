"""Bulk decisions from the queue: the ticked rows or every matching one, always behind a confirmation."""

import pytest
from django.urls import reverse

from fleetui.common.roles import REVIEWER, VIEWER
from runs.fleet.models import AuditEvent
from runs.reviews import bulk
from runs.reviews.models import ReviewDecision
from tests.factories import make_team
from tests.runs.reviews.queue_support import login, queued_pr

pytestmark = pytest.mark.django_db


def test_bulk_request_changes_asks_for_a_reason_then_sends_every_selected_one_back(client):
    reviewer = login(client, REVIEWER)
    prs = [queued_pr(f"acme/svc-{i}", i + 1) for i in range(3)]
    ids = [pr.pk for pr in prs[:2]]
    url = reverse("review-bulk")

    confirm = client.post(url, {"pr": ids, "decision": "request_changes"})
    assert b"Request changes on 2 pull requests?" in confirm.content
    assert not ReviewDecision.objects.exists()

    unexplained = client.post(url, {"pr": ids, "decision": "request_changes", "confirm": "yes"})
    assert unexplained.status_code == 200 and b"Say what to change" in unexplained.content
    assert not ReviewDecision.objects.exists()

    done = client.post(
        url,
        {"pr": ids, "decision": "request_changes", "confirm": "yes", "reason": "tests deleted", "next": "/reviews/"},
    )
    assert done.status_code == 302 and done["Location"] == "/reviews/"
    decisions = ReviewDecision.objects.all()
    assert {d.pull_request_id for d in decisions} == set(ids)
    assert {(d.decision, d.reason, d.reviewer_id) for d in decisions} == {
        ("request_changes", "tests deleted", reviewer.pk)
    }
    assert AuditEvent.objects.filter(verb="review.request_changes").count() == 2


def test_selecting_all_matching_decides_on_the_filtered_queue_not_just_the_page(client, settings):
    settings.PAGE_SIZE = 2
    login(client, REVIEWER)
    payments = make_team("payments")
    chosen = [queued_pr(f"acme/pay-{i}", i + 1, team=payments) for i in range(3)]
    queued_pr("acme/other", 9)

    confirm = client.post(
        reverse("review-bulk"), {"all_matching": "1", "filter_team": "payments", "decision": "approve"}
    )

    assert b"Approve 3 pull requests?" in confirm.content
    assert sorted(pr.pk for pr in confirm.context["prs"]) == sorted(pr.pk for pr in chosen)
    # The confirmation names the pull requests themselves, so a later change to the queue cannot widen it.
    body = confirm.content.decode()
    for pr in chosen:
        assert f'<input type="hidden" name="pr" value="{pr.pk}">' in body
    assert 'name="all_matching"' not in body
    client.post(reverse("review-bulk"), {"pr": [pr.pk for pr in chosen], "confirm": "yes", "decision": "approve"})
    assert set(ReviewDecision.objects.values_list("pull_request_id", flat=True)) == {pr.pk for pr in chosen}


def test_all_matching_is_capped_and_the_confirmation_says_so(client, monkeypatch):
    monkeypatch.setattr(bulk, "MAX_BULK", 2)
    login(client, REVIEWER)
    for i in range(3):
        queued_pr(f"acme/svc-{i}", i + 1)
    confirm = client.post(reverse("review-bulk"), {"all_matching": "1", "decision": "approve"})
    assert len(confirm.context["prs"]) == 2
    assert b"3 pull requests match; only the first 2 are decided at once." in confirm.content


def test_all_matching_of_an_unknown_migration_selects_nothing(client):
    login(client, REVIEWER)
    queued_pr("acme/svc", 1)
    response = client.post(reverse("review-bulk"), {"all_matching": "1", "filter_migration": "nope"})
    assert response.status_code == 302
    assert not ReviewDecision.objects.exists()


def test_a_viewer_cannot_decide_in_bulk(client):
    login(client, VIEWER)
    pr = queued_pr("acme/svc", 1)
    response = client.post(reverse("review-bulk"), {"pr": [pr.pk], "confirm": "yes", "decision": "approve"})
    assert response.status_code == 403
    assert not ReviewDecision.objects.exists()
