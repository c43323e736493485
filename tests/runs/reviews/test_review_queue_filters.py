"""The review queue page: filters kept in the URL, a total, sortable columns, pages, roles and the navigation."""

import re

import pytest
from django.urls import reverse

from fleetui.common.roles import MIGRATION_OWNER, REVIEWER, VIEWER
from runs.reviews.filters import QueueFilters
from tests.factories import make_migration, make_team
from tests.runs.reviews.queue_support import login, queued_pr

pytestmark = pytest.mark.django_db


def queue_repos(response) -> list[str]:
    """Repository names of the queue's rows, in page order."""
    return [pr.repository.full_name for pr in response.context["rows"]]


@pytest.fixture
def fleet():
    """Five pull requests over two migrations and two teams, with different CI and GitHub review states."""
    java, log4j = make_migration("java-21"), make_migration("log4j-upgrade")
    payments, search = make_team("payments", "Payments"), make_team("search", "Search")
    queued_pr("acme/pay-api", 1, migration=java, team=payments, days_ago=5, checks="success")
    queued_pr("acme/pay-worker", 2, migration=java, team=payments, days_ago=4, checks="failure")
    queued_pr("acme/search-index", 3, migration=java, team=search, days_ago=3, checks="pending", review="approved")
    queued_pr("acme/lonely", 4, migration=java, days_ago=2, review="changes_requested")
    queued_pr("acme/pay-logs", 5, migration=log4j, team=payments, days_ago=1, checks="success")


def test_the_queue_filters_by_migration_team_ci_review_and_repository_name(client, fleet):
    login(client, REVIEWER)
    url = reverse("reviews")

    assert queue_repos(client.get(url, {"migration": "log4j-upgrade"})) == ["acme/pay-logs"]
    assert queue_repos(client.get(url, {"team": "payments", "migration": "java-21"})) == [
        "acme/pay-api",
        "acme/pay-worker",
    ]
    assert queue_repos(client.get(url, {"team": "-"})) == ["acme/lonely"]
    assert queue_repos(client.get(url, {"ci": "failure"})) == ["acme/pay-worker"]
    assert queue_repos(client.get(url, {"ci": "none"})) == ["acme/lonely"]
    assert queue_repos(client.get(url, {"review": "approved"})) == ["acme/search-index"]
    assert queue_repos(client.get(url, {"review": "none"})) == ["acme/pay-api", "acme/pay-worker", "acme/pay-logs"]
    assert queue_repos(client.get(url, {"q": "PAY-"})) == ["acme/pay-api", "acme/pay-worker", "acme/pay-logs"]


def test_the_total_counts_every_matching_pull_request_and_the_whole_queue(client, fleet, settings):
    settings.PAGE_SIZE = 2
    login(client, VIEWER)
    response = client.get(reverse("reviews"), {"team": "payments"})
    body = response.content.decode()
    assert response.context["total"] == 3 and response.context["total_all"] == 5
    assert re.search(r"data-queue-total>\s*3\s*<", body)
    assert "(of <span data-queue-total-all>5</span> in all migrations)" in body
    assert len(response.context["rows"]) == 2
    assert "Page 1 of 2" in body
    second = client.get(reverse("reviews"), {"team": "payments", "page": 2})
    assert queue_repos(second) == ["acme/pay-logs"]


def test_the_api_counts_what_its_filters_match_as_the_page_does(client, fleet):
    login(client, VIEWER)
    for query, expected in (({}, 5), ({"team": "payments"}, 3), ({"ci": "failure"}, 1), ({"q": "nothing"}, 0)):
        answer = client.get("/api/reviews", {**query, "limit": 1}).json()
        page = client.get(reverse("reviews"), query).context
        assert answer["count"] == page["total"] == expected
        assert len(answer["results"]) == min(1, expected)


def test_page_links_and_sort_links_keep_the_filters(client, fleet, settings):
    settings.PAGE_SIZE = 1
    login(client, REVIEWER)
    body = client.get(reverse("reviews"), {"team": "payments", "ci": "success"}).content.decode()
    assert "?team=payments&amp;ci=success&amp;page=2" in body
    assert 'href="?team=payments&amp;ci=success&amp;order=repo"' in body
    # The filter form sends the filters again, and each chosen value is selected.
    assert '<option value="payments" selected>' in body and '<option value="success" selected>' in body


def test_sorting_by_a_column_and_again_flips_its_direction(client, fleet):
    login(client, REVIEWER)
    url = reverse("reviews")
    oldest_first = queue_repos(client.get(url))
    assert oldest_first == ["acme/pay-api", "acme/pay-worker", "acme/search-index", "acme/lonely", "acme/pay-logs"]
    assert queue_repos(client.get(url, {"order": "-age"})) == oldest_first[::-1]
    by_name = client.get(url, {"order": "repo"})
    assert queue_repos(by_name) == sorted(oldest_first)
    repo_column = next(c for c in by_name.context["columns"] if c["key"] == "repo")
    assert (repo_column["href"], repo_column["aria_sort"]) == ("?order=-repo", "ascending")
    assert queue_repos(client.get(url, {"order": "-repo"})) == sorted(oldest_first, reverse=True)
    assert queue_repos(client.get(url, {"order": "team"}))[-1] == "acme/lonely"  # no team sorts last
    assert queue_repos(client.get(url, {"order": "migration"}))[-1] == "acme/pay-logs"


def test_unknown_filter_values_are_ignored_rather_than_refused(client, fleet):
    login(client, REVIEWER)
    response = client.get(reverse("reviews"), {"ci": "<b>", "review": "nope", "order": "-drop table"})
    assert response.status_code == 200 and len(response.context["rows"]) == 5
    assert QueueFilters.from_query({"q": "  a   b  "}).q == "a b"


def test_a_migration_scoped_queue_keeps_its_migration_and_hides_its_column(client, fleet):
    login(client, REVIEWER)
    response = client.get(reverse("migration-reviews", args=["java-21"]), {"team": "payments"})
    assert queue_repos(response) == ["acme/pay-api", "acme/pay-worker"]
    assert [c["key"] for c in response.context["columns"]] == ["repo", "team", "ci", "age"]
    assert all("migration=" not in c["href"] for c in response.context["columns"])


def test_the_search_text_is_escaped_back_into_the_page(client, fleet):
    login(client, REVIEWER)
    body = client.get(reverse("reviews"), {"q": '"><script>alert(1)</script>'}).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&quot;&gt;&lt;script&gt;" in body


@pytest.mark.parametrize("role", [VIEWER, MIGRATION_OWNER])
def test_who_cannot_review_sees_the_queue_without_decision_controls_and_is_told_why(client, fleet, role):
    login(client, role)
    body = client.get(reverse("reviews")).content.decode()
    assert "acme/pay-api" in body
    assert "data-approve" not in body and "data-review-select" not in body and "Request changes…" not in body
    assert "need the <strong>reviewer</strong> role" in body
    assert 'disabled title="Approving needs the reviewer role"' in body


def test_a_reviewer_gets_select_all_bulk_buttons_and_a_keyboard_help(client, fleet):
    login(client, REVIEWER)
    body = client.get(reverse("reviews"), {"team": "payments"}).content.decode()
    assert "data-select-page" in body and body.count("data-review-select") == 3
    assert 'name="all_matching"' in body and "Select all <span data-queue-total>3</span> matching" in body
    assert '<input type="hidden" name="filter_team" value="payments">' in body
    assert 'value="approve" data-needs-selection' in body and 'value="request_changes" data-needs-selection' in body
    assert 'id="review-shortcuts"' in body and "js/reviews" in body


@pytest.mark.parametrize(
    "url",
    ["/", "/reviews/", "/migrations/java-21/reviews/", "/migrations/java-21/reviews/patterns/", "/pull-requests/sync/"],
)
def test_the_main_navigation_names_each_page_once(client, fleet, url):
    login(client, REVIEWER)
    body = client.get(url).content.decode()
    nav = body.split('aria-label="Main"', 1)[1].split("</nav>", 1)[0]
    labels = re.findall(r"<li><a [^>]*>([^<]+)</a></li>", nav)
    assert "Reviews" in labels and "Pull requests" in labels
    assert len(labels) == len(set(labels)), labels
