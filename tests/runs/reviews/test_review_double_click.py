"""Two approvals of one pull request at the same moment (a double click that beats the button's disabling)."""

import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from fleetui.common.roles import REVIEWER
from runs.fleet.models import AuditEvent
from runs.reviews.models import ReviewDecision
from tests.conftest import need_service
from tests.factories import make_user
from tests.runs.reviews.queue_support import HTMX, queued_pr

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_approvals_record_one_decision_and_both_answer_with_it():
    # SQLite serialises writers by locking the whole file; the race needs a database with concurrent writers.
    need_service("PostgreSQL", connection.vendor == "postgresql")
    Group.objects.get_or_create(name=REVIEWER)  # an earlier test's flush may have removed the role groups
    reviewer = make_user("rita", role=REVIEWER)
    pr = queued_pr("acme/pay-api", 1)
    url = reverse("review-approve", args=[pr.pk])
    start = threading.Barrier(4)
    answers: list[int] = []

    def click():
        client = Client()
        client.force_login(reviewer)
        start.wait()
        try:
            answers.append(client.post(url, {"next": "/reviews/"}, **HTMX).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert answers == [200, 200, 200, 200]
    assert ReviewDecision.objects.filter(pull_request=pr).count() == 1
    assert AuditEvent.objects.filter(verb="review.approve").count() == 1
