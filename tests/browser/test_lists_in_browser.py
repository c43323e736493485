"""The list pages in Chromium at 1280 px: one-line rows, no sideways scrolling, sorting and bulk triage."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from fleetui.common.roles import MIGRATION_OWNER, ROLES
from runs.fleet.models import Outcome
from tests.factories import (
    make_attempt,
    make_migration,
    make_pull_request,
    make_repo,
    make_team,
    make_user,
    make_verifier_result,
)
from triage.clusters.models import ClusterMember, FailureCluster

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-pass-1"
LONG = "org.apache.maven.plugins:maven-surefire-plugin:3.2.5:test failed: " + "x" * 300

LAYOUT = """
() => {
  const rows = [...document.querySelectorAll('main table tbody tr')];
  return {
    scrollWidth: document.documentElement.scrollWidth,
    rows: rows.length,
    tallest: Math.max(0, ...rows.map(r => r.getBoundingClientRect().height)),
    hidden: Math.max(0, ...[...document.querySelectorAll('.list-wrap, .table-wrap')].map(b => b.scrollWidth - b.clientWidth)),
  };
}
"""


def seed():
    """A migration with 50 repositories of long names and failures, and 30 clusters of long titles."""
    migration = make_migration("java-21", title="Move every service of the fleet from Java 17 to Java 21 " * 2)
    team = make_team("payments-platform-and-billing", "Payments Platform and Billing Infrastructure")
    now = timezone.now()
    clusters = [
        FailureCluster.objects.create(
            migration=migration,
            title=f"{i:02d} {LONG}"[: FailureCluster._meta.get_field("title").max_length],
            example_snippet=LONG,
            size=0,
            repos=0,
            last_seen_at=now,
        )
        for i in range(30)
    ]
    for i in range(50):
        repo = make_repo(f"acme-corporation/very-long-service-name-number-{i:02d}-with-suffix", team=team)
        attempt = make_attempt(migration, repo, outcome=Outcome.VERIFY_FAILED)
        attempt.ended_at = now - timedelta(days=i % 14)
        attempt.save(update_fields=["ended_at"])
        make_verifier_result(attempt, passed=False, kind="maven", snippet=f"[ERROR] {LONG}")
        make_pull_request(attempt, number=10000 + i, checks="failure", review="changes_requested")
        cluster = clusters[i % 30]
        ClusterMember.objects.create(
            cluster=cluster, migration=migration, attempt=attempt, repository=repo, joined_at=attempt.ended_at
        )
        cluster.size += 1
        cluster.repos += 1
        cluster.save()
    return migration, clusters


@pytest.fixture(autouse=True)
def role_groups():
    """The role groups a data migration makes, again after an earlier test here flushed the database."""
    for role in ROLES:
        Group.objects.get_or_create(name=role)


def log_in(page, live_server):
    make_user("owner", role=MIGRATION_OWNER, password=PASSWORD)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_lists_keep_to_one_line_rows_without_sideways_scrolling_at_1280_px(browser, live_server, screenshots):
    migration, _ = seed()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server)
    for name, path, rows in (
        ("fleet-overview", "/", 1),
        ("cluster-list", f"/migrations/{migration.slug}/clusters/", 30),
        ("repositories", f"/migrations/{migration.slug}/repos/", 50),
    ):
        page.goto(live_server.url + path)
        figures = page.evaluate(LAYOUT)
        page.screenshot(path=str(screenshots / f"list-{name}-1280.png"))
        assert figures["scrollWidth"] <= 1280, (name, figures)
        assert figures["hidden"] <= 0, (name, figures)
        assert figures["rows"] >= rows, (name, figures)
        # One line of text per row (badges and the sparkline included), however long the names are.
        assert figures["tallest"] <= 40, (name, figures)
    assert errors == []
    context.close()


def test_an_owner_sorts_selects_and_triages_clusters_in_place(page, live_server):
    migration, clusters = seed()
    log_in(page, live_server)
    page.goto(f"{live_server.url}/migrations/{migration.slug}/clusters/?repo=acme")
    page.get_by_role("link", name="Repos", exact=True).click()
    page.wait_for_url(re.compile(r"order=-repos"))
    assert "repo=acme" in page.url
    assert page.locator("th[aria-sort='descending']").inner_text().startswith("Repos")

    set_status = page.get_by_role("button", name="Set status")
    assert set_status.is_disabled()
    boxes = page.locator("[data-select-row]")
    boxes.nth(0).check()
    assert page.locator("[data-selection-count]").inner_text() == "1 selected"
    assert set_status.is_enabled()
    # Shift-click ticks the whole range, as in a mail client.
    boxes.nth(3).click(modifiers=["Shift"])
    assert page.locator("[data-selection-count]").inner_text() == "4 selected"
    assert [boxes.nth(i).is_checked() for i in range(5)] == [True, True, True, True, False]
    chosen = [int(boxes.nth(i).get_attribute("value")) for i in range(4)]
    page.get_by_label("Status for the selected clusters").select_option("wont_fix")
    set_status.click()
    page.wait_for_selector("text=4 of 4 clusters status set.")
    # Back on the same sorted, filtered list.
    assert "order=-repos" in page.url and "repo=acme" in page.url
    assert sorted(FailureCluster.objects.filter(status="wont_fix").values_list("id", flat=True)) == sorted(chosen)
    assert page.js_errors == []
