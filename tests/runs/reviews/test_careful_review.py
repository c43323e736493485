"""Passes that verified nothing reach reviewers marked "needs a careful review", on the page and in the API."""

import pytest
from django.urls import reverse

from fleetui.common.roles import REVIEWER
from runs.fleet.models import Layer
from runs.reviews.models import ReviewDecision
from tests.factories import make_api_token, make_migration
from tests.runs.reviews.queue_support import login, queued_pr

pytestmark = pytest.mark.django_db


@pytest.fixture
def fleet():
    """Three pull requests awaiting review: one whose verifier ran no test, two verified by tests."""
    migration = make_migration("java-21")
    empty = queued_pr("acme/no-tests", 1, migration=migration, days_ago=3)
    empty.attempt.layer = Layer.UNVERIFIABLE
    empty.attempt.save(update_fields=["layer"])
    for number, name in ((2, "acme/api"), (3, "acme/web")):
        pr = queued_pr(name, number, migration=migration, days_ago=number)
        pr.attempt.layer = Layer.VERIFIED
        pr.attempt.save(update_fields=["layer"])
    return migration


def rows(response) -> list[str]:
    return [pr.repository.full_name for pr in response.context["rows"]]


def test_an_unverifiable_pass_is_in_the_queue_marked_as_needing_a_careful_review(client, fleet):
    login(client, REVIEWER)

    response = client.get(reverse("reviews"))
    body = response.content.decode()

    assert "acme/no-tests" in rows(response)
    careful_rows = [chunk for chunk in body.split('<tr id="pr-')[1:] if "data-careful" in chunk.split("</tr>")[0]]
    assert len(careful_rows) == 1
    assert "acme/no-tests" in careful_rows[0]
    assert "needs a careful review" in careful_rows[0]


def test_the_queue_filters_to_the_passes_that_need_a_careful_review_or_to_the_verified_ones(client, fleet):
    login(client, REVIEWER)
    url = reverse("reviews")

    assert rows(client.get(url, {"care": "careful"})) == ["acme/no-tests"]
    assert sorted(rows(client.get(url, {"care": "verified"}))) == ["acme/api", "acme/web"]
    assert len(rows(client.get(url, {"care": "bogus"}))) == 3, "an unknown value is dropped, not applied"


def test_the_api_says_which_pull_requests_need_a_careful_review_and_filters_by_it(client, fleet):
    key = make_api_token(login(client, REVIEWER))
    headers = {"Authorization": f"Bearer {key}"}

    everything = client.get("/api/reviews", headers=headers).json()["results"]
    careful = client.get("/api/reviews", {"care": "careful"}, headers=headers).json()["results"]

    flags = {item["repo"]: (item["layer"], item["needs_careful_review"]) for item in everything}
    assert flags == {
        "acme/no-tests": ("unverifiable", True),
        "acme/api": ("verified", False),
        "acme/web": ("verified", False),
    }
    assert [item["repo"] for item in careful] == ["acme/no-tests"]


def test_selecting_all_matching_careful_passes_confirms_only_those_and_decides_nothing_yet(client, fleet):
    login(client, REVIEWER)

    confirm = client.post(
        reverse("review-bulk"), {"all_matching": "1", "filter_care": "careful", "decision": "approve"}
    )

    assert confirm.status_code == 200
    assert [pr.repository.full_name for pr in confirm.context["prs"]] == ["acme/no-tests"]
    assert not ReviewDecision.objects.exists(), "nothing is decided before the confirmation"
