"""A reviewer works the review queue in Chromium: filters it, reads a diff and decides with the keyboard, in place."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache

from fleetui.common.roles import REVIEWER
from runs.reviews.models import ReviewDecision
from tests.factories import make_migration, make_team, make_user
from tests.runs.reviews.queue_support import queued_pr

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-pass-1"


def seed_queue(fake):
    """Four pull requests awaiting review: three of the payments team (two in java-21), one of search."""
    java, log4j = make_migration("java-21", title="Move to Java 21"), make_migration("log4j-upgrade")
    payments, search = make_team("payments", "Payments"), make_team("search", "Search")
    prs = [
        queued_pr("acme/pay-api", 11, migration=java, team=payments, days_ago=4, checks="success", fake=fake),
        queued_pr("acme/pay-worker", 12, migration=java, team=payments, days_ago=3, checks="failure", fake=fake),
        queued_pr("acme/search-index", 13, migration=java, team=search, days_ago=2, checks="success", fake=fake),
        queued_pr("acme/pay-logs", 14, migration=log4j, team=payments, days_ago=1, checks="pending", fake=fake),
    ]
    return {pr.repository.full_name: pr for pr in prs}


def log_in_as_reviewer(page, live_server):
    Group.objects.get_or_create(name=REVIEWER)  # an earlier test's flush may have removed the role groups
    if not get_user_model().objects.filter(username="rita").exists():
        make_user("rita", role=REVIEWER, password=PASSWORD)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("rita")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_a_reviewer_filters_the_queue_and_approves_with_the_keyboard(
    page, live_server, screenshots, settings, fake_github
):
    settings.GITHUB_API_URL = fake_github.url
    cache.clear()
    prs = seed_queue(fake_github)
    log_in_as_reviewer(page, live_server)

    page.goto(f"{live_server.url}/reviews/")
    assert page.locator("#queue-total").inner_text() == "4"
    page.screenshot(path=str(screenshots / "review-queue.png"), full_page=True)

    # Choosing a team submits the filter form; the filter lands in the address.
    page.get_by_label("Owning team").select_option("payments")
    page.wait_for_url(re.compile(r"team=payments"))
    page.get_by_label("Migration").select_option("java-21")
    page.wait_for_url(re.compile(r"migration=java-21"))
    assert page.locator("#queue-total").inner_text() == "2"
    rows = page.locator("tr[data-review-row]")
    assert [rows.nth(i).locator("th").inner_text() for i in range(rows.count())] == ["acme/pay-api", "acme/pay-worker"]

    # The page is not reloaded by a decision in place: a marker set now must survive it.
    page.evaluate("window.__stillHere = true")
    first = page.locator(f"#pr-{prs['acme/pay-api'].pk}")
    page.keyboard.press("j")
    assert "is-current" in first.get_attribute("class")

    page.keyboard.press("o")  # its diff, from GitHub's files endpoint
    diff = page.locator(f"#diff-{prs['acme/pay-api'].pk}")
    diff.locator("text=pom.xml").first.wait_for()
    assert "OrderService.java" in diff.inner_text()

    page.keyboard.press("a")
    first.locator("text=approved by rita").wait_for()
    assert page.locator("#queue-total").inner_text() == "1"
    decision = ReviewDecision.objects.get(pull_request=prs["acme/pay-api"])
    assert (decision.decision, decision.reviewer.username) == ("approve", "rita")
    assert page.evaluate("window.__stillHere") is True
    assert "team=payments" in page.url and "migration=java-21" in page.url

    # The cursor moved on to the next pull request: send it back with a reason, still from the keyboard.
    second = page.locator(f"#pr-{prs['acme/pay-worker'].pk}")
    assert "is-current" in second.get_attribute("class")
    page.keyboard.press("r")
    reason = second.get_by_label(re.compile("What should change"))
    assert reason.evaluate("el => el === document.activeElement")
    page.keyboard.type("The failing CI run deletes OrderServiceTest.")
    page.keyboard.press("Control+Enter")
    second.locator("text=sent back for changes").wait_for()
    sent_back = ReviewDecision.objects.get(pull_request=prs["acme/pay-worker"])
    assert sent_back.decision == "request_changes" and "OrderServiceTest" in sent_back.reason
    assert page.locator("#queue-total").inner_text() == "0"
    assert ReviewDecision.objects.count() == 2  # nothing else was decided
    page.locator("#review-decisions").locator("text=acme/pay-worker").wait_for()

    page.keyboard.press("?")
    assert page.locator("#review-shortcuts").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#review-shortcuts").is_visible()
    page.screenshot(path=str(screenshots / "review-queue-decided.png"), full_page=True)
    assert page.evaluate("window.__stillHere") is True
    assert page.js_errors == []


def test_without_javascript_a_reviewer_still_filters_approves_and_reads_a_diff(
    browser, live_server, settings, fake_github
):
    settings.GITHUB_API_URL = fake_github.url
    cache.clear()
    prs = seed_queue(fake_github)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in_as_reviewer(page, live_server)
        page.goto(f"{live_server.url}/reviews/")
        page.get_by_label("Owning team").select_option("payments")
        page.get_by_role("button", name="Filter", exact=True).click()
        page.wait_for_url(re.compile(r"team=payments"))
        assert page.locator("#queue-total").inner_text() == "3"
        assert not page.locator("[data-shortcuts-open]").is_visible()

        page.locator(f"#pr-{prs['acme/pay-api'].pk}").get_by_role("button", name="Approve").click()
        # Back to the same filters, at the row that took the approved one's place.
        page.wait_for_url(re.compile(rf"team=payments.*#pr-{prs['acme/pay-worker'].pk}$"))
        assert ReviewDecision.objects.get().pull_request == prs["acme/pay-api"]
        assert page.locator("#queue-total").inner_text() == "2"

        page.locator(f"#pr-{prs['acme/pay-worker'].pk}").get_by_role("link", name="diff").click()
        page.wait_for_url(re.compile(rf"/reviews/{prs['acme/pay-worker'].pk}/diff/$"))
        assert "OrderService.java" in page.locator("main").inner_text()
    finally:
        context.close()
