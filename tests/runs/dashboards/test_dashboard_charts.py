"""The migration dashboard's charts agree with its numbers: a nested funnel, one pre-existing count, one bar per
cluster, no empty categories."""

import json
import re

import pytest
from django.urls import reverse

from fleetui.common.roles import VIEWER
from runs.dashboards import selectors
from runs.fleet.models import Outcome, Phase, PullRequest
from runs.reviews.models import ReviewDecision
from tests.factories import (
    make_api_token,
    make_attempt,
    make_judge,
    make_migration,
    make_pull_request,
    make_repo,
    make_user,
    make_verifier_result,
)
from triage.clusters.models import FailureCluster

pytestmark = pytest.mark.django_db


def figures(html: str) -> dict[str, dict]:
    """The Plotly figures of a page, by data-block id."""
    blocks = re.findall(r'<script id="([^"]+)" type="application/json">(.*?)</script>', html, re.S)
    return {block_id: json.loads(text) for block_id, text in blocks}


def dashboard(client, slug: str = "m") -> str:
    client.force_login(make_user(role=VIEWER))
    return client.get(reverse("migration-detail", args=[slug])).content.decode()


def approve(attempt, pr):
    ReviewDecision.objects.create(pull_request=pr, attempt=attempt, migration=attempt.migration, decision="approve")


def fleet_with_pull_requests_the_judge_did_not_approve():
    """Seven repositories, two of them with a pull request but no judge-approved attempt."""
    migration = make_migration("m")
    merged = make_attempt(migration, make_repo("org/merged"), outcome=Outcome.SUCCEEDED)
    approve(merged, make_pull_request(merged, state=PullRequest.State.MERGED))
    unreviewed = make_attempt(migration, make_repo("org/unreviewed"), outcome=Outcome.SUCCEEDED)
    make_pull_request(unreviewed, state=PullRequest.State.MERGED)
    # Pull requests opened although the judge rejected the change, or the verifiers failed (the judge approving it).
    rejected = make_attempt(migration, make_repo("org/rejected"), outcome=Outcome.JUDGE_REJECTED)
    make_pull_request(rejected)
    broken = make_attempt(migration, make_repo("org/broken"), outcome=Outcome.VERIFY_FAILED)
    make_judge(broken, verdict="approve")
    make_pull_request(broken)
    make_attempt(migration, make_repo("org/unchanged"), outcome=Outcome.NO_CHANGE)
    make_attempt(migration, make_repo("org/failing"), outcome=Outcome.VERIFY_FAILED)
    make_attempt(migration, make_repo("org/untouched"), phase=Phase.BASELINE, outcome=Outcome.SUCCEEDED)
    return migration


def test_the_funnel_never_grows_when_pull_requests_exist_without_judge_approval():
    migration = fleet_with_pull_requests_the_judge_did_not_approve()
    funnel = selectors.migration_funnel(migration=migration)
    counts = [stage.count for stage in funnel.stages]
    assert [stage.label for stage in funnel.stages] == [
        "targeted",
        "agent ran",
        "verifiers pass",
        "judge approves",
        "PR opened",
        "internally approved",
        "merged",
    ]
    assert counts == [7, 6, 3, 2, 2, 1, 1]
    assert all(later <= earlier for earlier, later in zip(counts, counts[1:], strict=False))
    assert (funnel.prs_without_approval, funnel.merged_without_review, funnel.no_change) == (2, 1, 1)
    assert all(stage.explanation for stage in funnel.stages)


def test_the_funnel_chart_explains_every_step_and_the_repositories_left_outside_it(client):
    fleet_with_pull_requests_the_judge_did_not_approve()
    html = dashboard(client)
    trace = figures(html)["chart-funnel"]["data"][0]
    assert trace["x"] == [7, 6, 3, 2, 2, 1, 1]
    assert all(label.strip() for label in trace["y"])
    assert all(why.startswith(("Repositories", "Of those")) for why in trace["customdata"])
    assert "%{customdata}" in trace["hovertemplate"]
    assert "2 repositories have a pull request but no judge-approved attempt" in html
    assert "1 judge-approved repository was merged without an internal approval" in html
    assert "1 repository needed no change" in html
    assert 'data-funnel-note="no-reviews"' not in html


def test_a_step_nobody_reached_keeps_its_row_with_a_zero_and_the_reason(client):
    migration = make_migration("m")
    done = make_attempt(migration, make_repo("org/done"), outcome=Outcome.SUCCEEDED)
    make_pull_request(done, state=PullRequest.State.MERGED)
    html = dashboard(client)
    trace = figures(html)["chart-funnel"]["data"][0]
    rows = dict(zip(trace["y"], zip(trace["x"], trace["text"], strict=True), strict=True))
    assert rows["PR opened"] == (1, "1 (100%)")
    assert rows["internally approved"] == (0, "0 (0%)")
    assert rows["merged"] == (0, "0 (0%)")
    assert 'data-funnel-note="no-reviews"' in html
    assert "1 judge-approved repository was merged without an internal approval" in html


def fleet_with_pre_existing_failures():
    """Baselines failed for three repositories: one is fixed now, one still fails, one has no attempt yet."""
    migration = make_migration("m")
    for name, outcome in (("org/fixed", Outcome.SUCCEEDED), ("org/still", Outcome.VERIFY_FAILED)):
        repo = make_repo(name)
        make_attempt(migration, repo, phase=Phase.BASELINE, outcome=Outcome.VERIFY_FAILED)
        make_attempt(migration, repo, outcome=outcome)
    make_attempt(migration, make_repo("org/waiting"), phase=Phase.BASELINE, outcome=Outcome.VERIFY_FAILED)
    make_attempt(migration, make_repo("org/broke"), outcome=Outcome.AGENT_ERROR)
    make_attempt(migration, make_repo("org/fine"), outcome=Outcome.SUCCEEDED)
    return migration


def test_the_header_the_donut_the_overview_and_the_api_count_the_same_pre_existing_failures(client):
    fleet_with_pre_existing_failures()
    html = dashboard(client)
    header = int(re.search(r"(\d+)</span> pre-existing failure", html).group(1))
    donut = figures(html)["chart-origins"]["data"][0]
    origins = dict(zip(donut["labels"], donut["values"], strict=True))
    assert header == origins["pre-existing"]
    assert origins == {"agent-introduced": 1, "pre-existing": 2}
    assert "1 agent-introduced" in html and "2 pre-existing" in html
    overview = client.get(reverse("home")).context["summaries"]
    assert [summary.pre_existing for summary in overview] == [2]
    token = make_api_token(make_user(role=VIEWER))
    body = client.get("/api/migrations", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert body["results"][0]["pre_existing"] == 2


def cluster(migration, title: str, size: int, *, status="new", example: str = "") -> FailureCluster:
    return FailureCluster.objects.create(
        migration=migration, title=title, size=size, repos=size, status=status, example_snippet=example
    )


def bars_top_down(figure: dict) -> list[tuple[str, int, str]]:
    """(axis label, size, url) of each bar, in the order they are drawn from the top."""
    yaxis = figure["layout"]["yaxis"]
    labels = dict(zip(yaxis.get("tickvals", []), yaxis.get("ticktext", []), strict=True))
    found = {}
    for trace in figure["data"]:
        for key, size, url in zip(trace["y"], trace["x"], trace["customdata"], strict=True):
            assert key not in found, "two clusters were drawn on one bar"
            found[key] = (labels.get(key, key), size, url)
    return [found[key] for key in reversed(yaxis["categoryarray"])]


def test_two_clusters_with_one_title_stay_two_bars_sorted_by_size_under_their_own_titles(client):
    migration = make_migration("m")
    make_attempt(migration, make_repo("org/a"), outcome=Outcome.VERIFY_FAILED)
    small = cluster(migration, "cannot find symbol", 2)
    big = cluster(migration, "cannot find symbol", 5, status="triaged")
    untitled = cluster(migration, "", 3, example="\n  [ERROR] Could not resolve org.junit:junit\nmore")
    bare = cluster(migration, "   ", 1)
    cluster(migration, "empty", 0)
    html = dashboard(client)
    bars = bars_top_down(figures(html)["chart-clusters"])
    assert bars == [
        ("cannot find symbol", 5, reverse("cluster-detail", args=[big.pk])),
        (
            "untitled cluster: [ERROR] Could not resolve org.junit:junit",
            3,
            reverse("cluster-detail", args=[untitled.pk]),
        ),
        ("cannot find symbol", 2, reverse("cluster-detail", args=[small.pk])),
        ("untitled cluster", 1, reverse("cluster-detail", args=[bare.pk])),
    ]
    assert not any(re.fullmatch(r"cluster \d+", label) for label, _, _ in bars)
    assert "4 clusters, largest first" in html


def test_a_long_cluster_title_is_shortened_on_the_axis_and_whole_in_the_hover(client):
    migration = make_migration("m")
    make_attempt(migration, make_repo("org/a"), outcome=Outcome.VERIFY_FAILED)
    title = "Failed to collect dependencies at org.apache.logging.log4j:log4j-core:jar:2.24.1 " * 2
    cluster(migration, title, 4)
    figure = figures(dashboard(client))["chart-clusters"]
    (label,) = figure["layout"]["yaxis"]["ticktext"]
    assert len(label) <= 60 and label.endswith("…")
    assert figure["data"][0]["hovertext"] == [" ".join(title.split())]


def test_verifier_calls_without_a_build_system_count_as_unknown_and_the_busiest_comes_first(client):
    migration = make_migration("m")
    for index, (kind, passed) in enumerate([("maven", True), ("", False), ("  ", True), ("gradle", True)] * 2):
        attempt = make_attempt(migration, make_repo(f"org/r{index}"), outcome=Outcome.SUCCEEDED)
        make_verifier_result(attempt, kind=kind, passed=passed)
    make_verifier_result(attempt, kind="maven", passed=False, position=2)
    assert selectors.verifier_pass_rates(migration=migration) == [("unknown", 2, 4), ("maven", 2, 3), ("gradle", 2, 2)]
    trace = figures(dashboard(client))["chart-pass-rates"]["data"][0]
    assert trace["x"] == ["unknown", "maven", "gradle"]
    assert all(label.strip() for label in trace["x"])
