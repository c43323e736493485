"""Dashboard pages: migration charts, cluster list and cluster page, triage actions, escaping and query bounds."""

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fleetui.common.roles import MIGRATION_OWNER, VIEWER
from runs.fleet.models import AuditEvent, Outcome, Phase, PullRequest
from runs.reviews.models import ReviewDecision
from tests.factories import (
    make_attempt,
    make_migration,
    make_prompt_revision,
    make_pull_request,
    make_repo,
    make_team,
    make_user,
    make_verifier_result,
)
from triage.clusters.counts import cluster_counts_refresh
from triage.clusters.models import ClusterMember, FailureCluster

pytestmark = pytest.mark.django_db

XSS = "<script>alert('x')</script>"


def logged_in(client, role=VIEWER):
    client.force_login(make_user(role=role))
    return client


def cluster_with_members(migration, title: str, repos: list, *, status="new", team=None, joined_days_ago=0):
    """A cluster whose members are failed attempts on the named repositories."""
    cluster = FailureCluster.objects.create(migration=migration, title=title, status=status, example_snippet=title)
    for name in repos:
        attempt = make_attempt(migration, make_repo(name, team=team), outcome=Outcome.VERIFY_FAILED)
        result = make_verifier_result(attempt, passed=False, snippet=f"{title} in {name}")
        ClusterMember.objects.create(
            cluster=cluster,
            migration=migration,
            attempt=attempt,
            verifier_result=result,
            repository=attempt.repository,
            why=ClusterMember.Why.SIMILAR,
            snippet=result.snippet,
            joined_at=timezone.now() - timedelta(days=joined_days_ago),
        )
    cluster.size = cluster.repos = cluster.agent_failures = len(repos)
    cluster.first_seen_at = cluster.last_seen_at = timezone.now()
    cluster.save()
    # As clustering leaves it: the cluster's counts kept.
    cluster_counts_refresh(cluster_ids=[cluster.pk])
    return cluster


def figures(html: str) -> dict[str, dict]:
    """The Plotly figures of a page, by data-block id."""
    blocks = re.findall(r'<script id="([^"]+)" type="application/json">(.*?)</script>', html, re.S)
    return {block_id: json.loads(text) for block_id, text in blocks}


def test_the_migration_dashboard_renders_every_chart_from_the_data(client):
    migration = make_migration("m")
    revision = make_prompt_revision(migration, 2)
    ok = make_attempt(migration, make_repo("org/ok"), outcome=Outcome.SUCCEEDED, prompt_revision=revision)
    make_verifier_result(ok, passed=True, kind="gradle")
    pr = make_pull_request(ok, state=PullRequest.State.MERGED)
    ReviewDecision.objects.create(pull_request=pr, attempt=ok, migration=migration, decision="approve")
    make_attempt(migration, make_repo("org/legacy"), phase=Phase.BASELINE, outcome=Outcome.VERIFY_FAILED)
    make_attempt(migration, make_repo("org/legacy"), outcome=Outcome.VERIFY_FAILED, prompt_revision=revision)
    cluster = cluster_with_members(migration, "cannot find symbol", ["org/a", "org/b"])
    logged_in(client)
    html = client.get(reverse("migration-detail", args=["m"])).content.decode()
    charts = figures(html)
    assert set(charts) == {
        "chart-funnel",
        "chart-burndown",
        "chart-clusters",
        "chart-pass-rates",
        "chart-attempts",
        "chart-origins",
        "chart-revisions",
    }
    assert all(f'data-plotly="{chart_id}"' in html for chart_id in charts)
    funnel = dict(zip(charts["chart-funnel"]["data"][0]["y"], charts["chart-funnel"]["data"][0]["x"], strict=True))
    assert funnel["targeted"] == 4
    assert funnel["agent ran"] == 4
    assert funnel["verifiers pass"] == 1
    assert funnel["internally approved"] == 1
    assert funnel["merged"] == 1
    bars = charts["chart-clusters"]["data"][0]
    assert bars["customdata"] == [reverse("cluster-detail", args=[cluster.pk])]
    assert charts["chart-origins"]["data"][0]["values"] == [2, 1]
    assert reverse("migration-repos", args=["m"]) in html
    assert reverse("cluster-list", args=["m"]) in html


def test_an_empty_migration_dashboard_says_there_is_nothing_to_chart(client):
    make_migration("empty")
    logged_in(client)
    html = client.get(reverse("migration-detail", args=["empty"])).content.decode()
    assert "Nothing to chart yet" in html
    assert not figures(html)


def test_untrusted_titles_and_names_are_escaped_in_pages_and_figures(client):
    migration = make_migration("m")
    cluster = cluster_with_members(migration, f"boom {XSS}", [f"org/{XSS}"])
    logged_in(client)
    for url in (
        reverse("migration-detail", args=["m"]),
        reverse("cluster-list", args=["m"]),
        reverse("cluster-detail", args=[cluster.pk]),
        reverse("migration-repos", args=["m"]),
        reverse("home"),
    ):
        html = client.get(url).content.decode()
        assert XSS not in html, url
        for figure in figures(html).values():
            assert "<script>" not in json.dumps(figure), url


def test_the_cluster_list_filters_sorts_and_counts_statuses_from_the_query_string(client):
    migration = make_migration("m")
    search = make_team("search")
    cluster_with_members(migration, "missing symbol", ["org/a", "org/b", "org/c"], team=search)
    cluster_with_members(migration, "flaky network", ["org/d"], status="infra_flaky")
    cluster_with_members(migration, "lint error", ["org/e", "org/f"], status="triaged")
    logged_in(client)
    url = reverse("cluster-list", args=["m"])

    def titles(**params):
        return [c.title for c in client.get(url, params).context["clusters"]]

    assert titles() == ["missing symbol", "lint error", "flaky network"]
    assert titles(order="title") == ["flaky network", "lint error", "missing symbol"]
    assert titles(status="triaged") == ["lint error"]
    assert titles(q="network") == ["flaky network"]
    assert titles(team="search") == ["missing symbol"]
    response = client.get(url, {"status": "triaged"})
    tabs = {value: count for value, _, count in response.context["tabs"]}
    assert (tabs["new"], tabs["infra_flaky"], tabs["triaged"]) == (1, 1, 1)
    assert response.context["total"] == 3


def test_the_cluster_list_ignores_bad_filters_and_says_when_nothing_matches(client):
    migration = make_migration("m")
    cluster_with_members(migration, "missing symbol", ["org/a"])
    logged_in(client)
    url = reverse("cluster-list", args=["m"])
    response = client.get(url, {"status": "exploded", "new_since": "yesterday"})
    assert len(response.context["clusters"]) == 1
    assert b"not understood" in response.content
    assert b"No clusters match these filters" in client.get(url, {"q": "zzz"}).content


def test_the_cluster_page_shows_members_with_their_pull_requests_and_a_timeline(client):
    migration = make_migration("m")
    cluster = cluster_with_members(migration, "missing symbol", ["org/a", "org/b"])
    member = cluster.members.get(repository__full_name="org/a")
    make_pull_request(member.attempt, checks="failure", review="changes_requested", number=77)
    logged_in(client)
    response = client.get(reverse("cluster-detail", args=[cluster.pk]))
    html = response.content.decode()
    assert "org/a" in html and "org/b" in html
    assert "#77" in html and "changes_requested" in html and "checks-failure" in html
    assert "chart-timeline" in figures(html)
    assert "Select all 2 matching members" in html
    # Both members joined by similar text, so each row and the summary say so, and nothing says "same signature".
    assert len(re.findall(r'<span title="score [^"]*">similar text</span>', html)) == 2
    assert "2 by similar text" in html
    assert "same signature" not in html


def test_the_cluster_pages_members_in_its_order_agent_failures_first_then_by_score_and_name(client, settings):
    settings.PAGE_SIZE = 2
    migration = make_migration("m")
    cluster = cluster_with_members(migration, "missing symbol", ["org/e", "org/b", "org/d", "org/a", "org/c"])
    scores = {"org/a": 0.5, "org/b": 0.9, "org/c": 0.9, "org/d": 0.1, "org/e": 0.7}
    for member in cluster.members.select_related("repository"):
        name = member.repository.full_name
        ClusterMember.objects.filter(pk=member.pk).update(score=scores[name], pre_existing=name == "org/b")
    logged_in(client)
    pages = [
        [
            m.repository.full_name
            for m in client.get(reverse("cluster-detail", args=[cluster.pk]), {"page": n}).context["members"]
        ]
        for n in (1, 2, 3)
    ]
    assert pages == [["org/c", "org/e"], ["org/a", "org/d"], ["org/b"]]


def test_bulk_actions_without_their_pages_are_visible_but_disabled(client):
    migration = make_migration("m")
    cluster = cluster_with_members(migration, "missing symbol", ["org/a"])
    logged_in(client)
    html = client.get(reverse("cluster-detail", args=[cluster.pk])).content.decode()
    for label in ("Rerun selected", "Nudge owners", "Approve PRs"):
        assert re.search(rf"<(button|a)[^>]*>{label}", html), label


def test_an_owner_changes_a_clusters_status_and_the_audit_trail_records_it(client):
    migration = make_migration("m")
    cluster = cluster_with_members(migration, "missing symbol", ["org/a"])
    logged_in(client, MIGRATION_OWNER)
    response = client.post(
        reverse("cluster-action", args=[cluster.pk]), {"action": "update", "status": "fix_in_prompt"}
    )
    assert response.status_code == 302
    cluster.refresh_from_db()
    assert cluster.status == "fix_in_prompt"
    assert AuditEvent.objects.filter(verb="cluster.update", target_id=str(cluster.pk)).exists()
    assert b"Cluster updated" in client.get(response["Location"]).content


def test_a_viewer_cannot_change_a_cluster_and_sees_no_triage_form(client):
    migration = make_migration("m")
    cluster = cluster_with_members(migration, "missing symbol", ["org/a"])
    logged_in(client, VIEWER)
    assert b"Save status" not in client.get(reverse("cluster-detail", args=[cluster.pk])).content
    response = client.post(reverse("cluster-action", args=[cluster.pk]), {"action": "update", "status": "resolved"})
    assert response.status_code == 403
    cluster.refresh_from_db()
    assert cluster.status == "new"


def test_triage_actions_need_post_and_a_csrf_token():
    migration = make_migration("m")
    cluster = cluster_with_members(migration, "missing symbol", ["org/a"])
    csrf_client = logged_in(Client(enforce_csrf_checks=True), MIGRATION_OWNER)
    url = reverse("cluster-action", args=[cluster.pk])
    assert csrf_client.get(url).status_code == 405
    assert csrf_client.post(url, {"action": "update", "status": "resolved"}).status_code == 403


def test_merging_needs_confirmation_then_moves_every_member(client):
    migration = make_migration("m")
    source = cluster_with_members(migration, "missing symbol", ["org/a"])
    into = cluster_with_members(migration, "cannot find symbol", ["org/b"])
    logged_in(client, MIGRATION_OWNER)
    url = reverse("cluster-action", args=[source.pk])
    client.post(url, {"action": "merge", "into": into.pk})
    assert FailureCluster.objects.filter(pk=source.pk).exists()
    response = client.post(url, {"action": "merge", "into": into.pk, "confirm": "yes"})
    assert response["Location"] == reverse("cluster-detail", args=[into.pk])
    assert not FailureCluster.objects.filter(pk=source.pk).exists()
    assert into.members.count() == 2


def test_moving_selected_members_out_makes_a_new_cluster(client):
    migration = make_migration("m")
    cluster = cluster_with_members(migration, "missing symbol", ["org/a", "org/b", "org/c"])
    logged_in(client, MIGRATION_OWNER)
    response = client.post(reverse("cluster-action", args=[cluster.pk]), {"action": "split", "repos": ["org/b"]})
    new = FailureCluster.objects.exclude(pk=cluster.pk).get()
    assert response["Location"] == reverse("cluster-detail", args=[new.pk])
    assert list(new.members.values_list("repository__full_name", flat=True)) == ["org/b"]
    assert cluster.members.count() == 2


def test_the_repository_table_filters_by_cluster_and_pull_request_state(client):
    migration = make_migration("m")
    cluster = cluster_with_members(migration, "missing symbol", ["org/a", "org/b"])
    cluster_with_members(migration, "other", ["org/c"])
    make_pull_request(cluster.members.get(repository__full_name="org/a").attempt, state=PullRequest.State.OPEN)
    logged_in(client)
    url = reverse("migration-repos", args=["m"])

    def names(**params):
        return [t.repository.full_name for t in client.get(url, params).context["rows"]]

    assert names(cluster=cluster.pk) == ["org/a", "org/b"]
    assert names(pr_state="open") == ["org/a"]
    assert names(pr_state="none") == ["org/b", "org/c"]
    html = client.get(url).content.decode()
    assert reverse("cluster-detail", args=[cluster.pk]) in html


def test_the_fleet_overview_lists_clusters_that_grew_in_the_last_day(client):
    migration = make_migration("m")
    cluster_with_members(migration, "fresh failure", ["org/a", "org/b"])
    cluster_with_members(migration, "old failure", ["org/c"], joined_days_ago=5)
    logged_in(client)
    response = client.get(reverse("home"))
    assert [c.title for c in response.context["grown"]] == ["fresh failure"]
    # The overview's trend is an inline SVG sparkline, not a chart.
    assert '<svg class="spark"' in response.content.decode() and not figures(response.content.decode())


def test_the_attempt_page_shows_the_span_tree_with_verify_snippets_and_the_judge(client):
    migration = make_migration("m")
    tree = [
        {"id": "a", "parent": None, "name": "agent", "type": "AGENT", "depth": 0, "status": "OK", "duration_ms": 9000},
        {"id": "b", "parent": "a", "name": "llm call", "type": "LLM", "depth": 1, "status": "OK", "duration_ms": 1200},
        {"id": "c", "parent": "a", "name": "verify", "type": "TOOL", "depth": 1, "status": "ERROR", "verifier": 1},
        {"id": "d", "parent": "a", "name": "judge", "type": "LLM", "depth": 1, "status": "OK", "judge": True},
    ]
    attempt = make_attempt(migration, make_repo("org/a"), span_tree=tree)
    make_verifier_result(attempt, position=1, passed=False, snippet="[ERROR] symbol gone", output="full log here")
    from tests.factories import make_judge

    make_judge(attempt, verdict="reject", rationale=f"tests deleted {XSS}")
    logged_in(client)
    html = client.get(reverse("attempt-detail", args=[attempt.trace_id])).content.decode()
    assert html.count('class="span ') == 4
    assert "llm call" in html and "verify failed" in html
    assert "[ERROR] symbol gone" in html and "Full output of maven" in html
    assert "judge: reject" in html
    assert XSS not in html


@pytest.mark.parametrize("members", [3, 40])
def test_cluster_pages_take_a_bounded_number_of_queries(client, settings, members, django_assert_max_num_queries):
    settings.PAGE_SIZE = 100
    migration = make_migration("m")
    cluster = cluster_with_members(migration, "missing symbol", [f"org/r{i}" for i in range(members)])
    for member in cluster.members.all()[:members]:
        make_pull_request(member.attempt)
    for i in range(members):
        cluster_with_members(migration, f"other {i}", [f"org/o{i}"])
    logged_in(client, MIGRATION_OWNER)
    # Three queries each on the cluster page and the list read costs and fix rates; on the cluster page two more
    # read what each rerun cost (the fixes elsewhere load after the page).
    with django_assert_max_num_queries(21):
        assert client.get(reverse("cluster-detail", args=[cluster.pk])).status_code == 200
    with django_assert_max_num_queries(15):
        assert len(client.get(reverse("cluster-list", args=["m"])).context["clusters"]) == members + 1
    # No import has run, so the dashboard counts live instead of reading the migration's kept counts.
    with django_assert_max_num_queries(25):
        assert client.get(reverse("migration-detail", args=["m"])).status_code == 200
    with django_assert_max_num_queries(14):
        assert len(client.get(reverse("migration-repos", args=["m"])).context["rows"]) == 2 * members
    with django_assert_max_num_queries(11):
        assert client.get(reverse("home")).status_code == 200


def test_cluster_search_finds_a_cause_only_some_members_name(client):
    migration = make_migration("m")
    cluster = cluster_with_members(migration, "No module named 'structlog'", ["org/a", "org/b"])
    member = cluster.members.order_by("id").last()
    member.deciding_line = "E   ModuleNotFoundError: No module named 'pythonjsonlogger'"
    member.save()
    cluster_with_members(migration, "lint error", ["org/c"])
    logged_in(client)
    found = client.get(reverse("cluster-list", args=["m"]), {"q": "pythonjsonlogger"}).context["clusters"]
    assert [c.pk for c in found] == [cluster.pk]


def test_the_member_table_shows_each_members_deciding_line_escaped(client):
    migration = make_migration("m")
    cluster = cluster_with_members(migration, "missing symbol", ["org/a"])
    cluster.members.update(deciding_line=f"cannot find symbol: class Rule {XSS}")
    logged_in(client)
    html = client.get(reverse("cluster-detail", args=[cluster.pk])).content.decode()
    assert "Deciding line" in html
    assert "cannot find symbol: class Rule &lt;script&gt;" in html
    assert XSS not in html


def test_the_member_table_shows_a_long_deciding_line_from_the_clause_that_names_the_cause(client):
    migration = make_migration("m")
    cluster = cluster_with_members(migration, "network timeout", ["org/a"])
    line = (
        "[ERROR] Failed to execute goal on project a: Could not resolve dependencies for project com.org.a:a:jar:1.0: "
        "Failed to collect dependencies at org.slf4j:slf4j-api:jar:2.0.16: Failed to read artifact descriptor for "
        "org.slf4j:slf4j-api:jar:2.0.16: The following artifacts could not be resolved: org.slf4j:slf4j-api:jar:2.0.16 "
        "(absent): Could not transfer artifact org.slf4j:slf4j-api:jar:2.0.16 from/to central "
        f"(https://nexus.example.internal/maven2): Connect to nexus.example.internal:443 failed: Connect timed out {XSS}"
    )
    cluster.members.update(deciding_line=line)
    logged_in(client)
    html = client.get(reverse("cluster-detail", args=[cluster.pk])).content.decode()
    cell = html.split('<td class="snippet-cell">', 1)[1].split("</td>", 1)[0]
    assert ">Could not transfer artifact org.slf4j:slf4j-api:jar:2.0.16 from/to central" in cell
    assert "Connect timed out &lt;script&gt;" in cell
    assert ">[ERROR] Failed to execute goal" not in cell
    assert XSS not in html
