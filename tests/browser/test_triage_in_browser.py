"""Triage in a real browser: charts draw under the CSP, a bar opens its cluster, triage and selection work."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from fleetui.common.roles import MIGRATION_OWNER
from runs.fleet.models import Outcome, Phase, PullRequest
from tests.factories import (
    make_attempt,
    make_judge,
    make_migration,
    make_prompt_revision,
    make_pull_request,
    make_repo,
    make_team,
    make_user,
    make_verifier_result,
)
from triage.clusters.models import ClusterMember, FailureCluster

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-pass-1"


def seed_fleet():
    """A small migration with attempts over several days, a judge verdict, pull requests and two clusters."""
    migration = make_migration("java-21", title="Move to Java 21")
    revisions = [make_prompt_revision(migration, n) for n in (1, 2)]
    team = make_team("payments", "Payments")
    start = timezone.now() - timedelta(days=6)
    clusters = [
        FailureCluster.objects.create(
            migration=migration, title="cannot find symbol <b>javax</b>", example_snippet="[ERROR] cannot find symbol"
        ),
        FailureCluster.objects.create(
            migration=migration, title="tests deleted", status="triaged", example_snippet="judge: tests deleted"
        ),
    ]
    for i in range(14):
        repo = make_repo(f"org/svc-{i:02d}", team=team if i % 2 else None)
        when = start + timedelta(days=i % 6, hours=i)
        outcome = Outcome.SUCCEEDED if i % 3 == 0 else Outcome.VERIFY_FAILED
        attempt = make_attempt(
            migration,
            repo,
            outcome=outcome,
            started_at=when,
            ended_at=when + timedelta(minutes=20),
            prompt_revision=revisions[i % 2],
            span_tree=[
                {"id": "r", "parent": None, "name": "agent", "type": "AGENT", "depth": 0, "status": "OK"},
                {"id": "l", "parent": "r", "name": "plan edit", "type": "LLM", "depth": 1, "status": "OK"},
                {"id": "v", "parent": "r", "name": "verify", "type": "TOOL", "depth": 1, "status": "OK", "verifier": 1},
                {"id": "j", "parent": "r", "name": "judge", "type": "LLM", "depth": 1, "status": "OK", "judge": True},
            ],
        )
        passed = outcome == Outcome.SUCCEEDED
        result = make_verifier_result(
            attempt,
            position=1,
            passed=passed,
            snippet="" if passed else f"[ERROR] cannot find symbol javax.Foo{i}",
            output=f"[INFO] building\n[ERROR] cannot find symbol javax.Foo{i}\nBUILD FAILURE {i}",
        )
        make_judge(attempt, verdict="approve" if passed else "reject", rationale="Looks complete.")
        if passed:
            make_pull_request(attempt, state=PullRequest.State.MERGED if i % 2 else PullRequest.State.OPEN)
        else:
            cluster = clusters[0] if i % 4 else clusters[1]
            ClusterMember.objects.create(
                cluster=cluster,
                migration=migration,
                attempt=attempt,
                verifier_result=result,
                repository=repo,
                why=ClusterMember.Why.SIMILAR,
                snippet=result.snippet,
                joined_at=when,
            )
    make_attempt(migration, make_repo("org/legacy"), phase=Phase.BASELINE, outcome=Outcome.VERIFY_FAILED)
    for cluster in clusters:
        members = cluster.members.all()
        cluster.size = cluster.agent_failures = members.count()
        cluster.repos = members.values("repository").distinct().count()
        cluster.first_seen_at = start
        cluster.last_seen_at = timezone.now()
        cluster.save()
    return migration, clusters


def log_in(page, live_server):
    Group.objects.get_or_create(name=MIGRATION_OWNER)  # an earlier test's flush may have removed the role groups
    make_user("owner", role=MIGRATION_OWNER, password=PASSWORD)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")


def test_a_reviewer_triages_a_cluster_from_the_dashboard(page, live_server, screenshots):
    migration, clusters = seed_fleet()
    log_in(page, live_server)
    page.wait_for_selector("h1:has-text('Fleet overview')")
    page.screenshot(path=str(screenshots / "fleet-overview.png"), full_page=True)

    page.get_by_role("link", name="Move to Java 21").first.click()
    page.wait_for_selector("[data-plotly='chart-clusters'] .main-svg")
    # The layer and spend charts load after the page; wait for them so the layout stops moving.
    page.wait_for_selector("#failure-layers")
    assert (
        page.locator(".js-plotly-plot").count()
        == 7 + page.locator("#failure-layers, #spend").locator(".js-plotly-plot").count()
    )
    page.screenshot(path=str(screenshots / "migration-dashboard.png"), full_page=True)

    # The bars are one per cluster, largest on top, under each cluster's own title.
    ticks = page.locator("[data-plotly='chart-clusters'] .ytick text")
    labels = sorted((ticks.nth(i).bounding_box()["y"], ticks.nth(i).text_content()) for i in range(ticks.count()))
    assert [label for _, label in labels] == ["cannot find symbol <b>javax</b>", "tests deleted"]
    # Open the largest cluster by clicking its bar: the click itself must navigate, there is no other route here.
    # Plotly's drag layer sits over the bars, so click where the top bar is rather than on its element.
    page.locator("[data-plotly='chart-clusters']").scroll_into_view_if_needed()
    bars = page.locator("[data-plotly='chart-clusters'] .point path")
    boxes = [bars.nth(i).bounding_box() for i in range(bars.count())]
    box = min(boxes, key=lambda b: b["y"])
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(re.compile(r"/clusters/\d+/$"), timeout=5_000)
    cluster_id = int(re.search(r"/clusters/(\d+)/", page.url).group(1))
    assert cluster_id == clusters[0].pk
    assert page.locator("h1").inner_text() == "cannot find symbol <b>javax</b>"
    page.wait_for_selector("[data-plotly='chart-timeline'] .main-svg")

    page.get_by_label("Status", exact=True).select_option("fix_in_prompt")
    page.get_by_role("button", name="Save status and assignee").click()
    page.wait_for_selector("text=Cluster updated.")
    assert page.locator("[data-cluster-status]").inner_text() == "fix in prompt"
    assert FailureCluster.objects.get(pk=cluster_id).status == "fix_in_prompt"

    page.get_by_label("Select every member on this page").check()
    rows = page.locator("[data-select-row]")
    assert rows.count() > 1
    assert all(rows.nth(i).is_checked() for i in range(rows.count()))
    assert page.locator("[data-selection-count]").inner_text() == f"{rows.count()} selected"
    rows.first.uncheck()
    assert page.locator("[data-selection-count]").inner_text() == f"{rows.count() - 1} selected"
    page.screenshot(path=str(screenshots / "cluster.png"), full_page=True)

    page.goto(f"{live_server.url}/migrations/{migration.slug}/clusters/")
    page.screenshot(path=str(screenshots / "cluster-list.png"), full_page=True)
    page.goto(f"{live_server.url}/migrations/{migration.slug}/repos/")
    page.screenshot(path=str(screenshots / "repositories.png"), full_page=True)

    page.get_by_role("link", name="org/svc-01", exact=True).click()
    page.wait_for_url(re.compile(r"/attempts/"))
    output = page.locator("details.span-output").first
    assert not output.locator("pre.output").is_visible()
    output.locator("summary").click()
    assert output.locator("pre.output").is_visible()
    assert "BUILD FAILURE 1" in output.locator("pre.output").inner_text()
    page.screenshot(path=str(screenshots / "attempt.png"), full_page=True)
    assert page.js_errors == []
