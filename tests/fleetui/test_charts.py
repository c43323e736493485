"""Dashboard figures: data in the right places, escaped text, and the burndown's day-by-day states."""

import json
from datetime import date, datetime, timedelta

from fleetui.common import charts

XSS = "<img src=x onerror=alert(1)>"


def test_cluster_bars_carry_their_url_for_click_through_and_escape_titles():
    bars = [
        charts.ClusterBar(title=f"cannot find {XSS}", size=9, status="new", status_label="new", url="/clusters/7/"),
        charts.ClusterBar(
            title="flaky network", size=4, status="infra_flaky", status_label="infra", url="/clusters/8/"
        ),
    ]
    figure = charts.cluster_sizes_figure(bars)
    text = json.dumps(figure)
    assert XSS not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    customdata = [url for trace in figure["data"] for url in trace["customdata"]]
    assert sorted(customdata) == ["/clusters/7/", "/clusters/8/"]
    assert {trace["name"] for trace in figure["data"]} == {"new", "infra"}


def test_clusters_with_one_title_are_two_bars_largest_on_top_with_the_title_on_the_axis():
    bars = [
        charts.ClusterBar(key=3, title="cannot find symbol", size=2, status="new", status_label="new", url="/c/3/"),
        charts.ClusterBar(key=9, title="cannot find symbol", size=6, status="new", status_label="new", url="/c/9/"),
        charts.ClusterBar(key=4, title="x" * 90, size=4, status="triaged", status_label="triaged", url="/c/4/"),
    ]
    figure = charts.cluster_sizes_figure(bars)
    yaxis = figure["layout"]["yaxis"]
    top_down = list(reversed(yaxis["categoryarray"]))
    assert top_down == ["c9", "c4", "c3"]
    assert yaxis["tickvals"] == top_down
    assert yaxis["ticktext"] == ["cannot find symbol", "x" * 59 + "…", "cannot find symbol"]
    keys = [key for trace in figure["data"] for key in trace["y"]]
    assert sorted(keys) == ["c3", "c4", "c9"]
    assert figure["layout"]["barmode"] != "stack"
    triaged = next(trace for trace in figure["data"] if trace["name"] == "triaged")
    assert triaged["hovertext"] == ["x" * 90]


def test_a_funnel_step_with_no_repository_shows_its_zero_and_every_step_explains_itself_on_hover():
    figure = charts.funnel_figure([("targeted", 10, "All of them."), ("PR opened", 4, "With a PR."), ("merged", 0, "")])
    trace = figure["data"][0]
    assert trace["text"] == ["10 (100%)", "4 (40%)", "0 (0%)"]
    assert trace["textposition"][2] == "outside"
    assert trace["customdata"] == ["All of them.", "With a PR.", ""]
    assert "%{customdata}" in trace["hovertemplate"]
    assert figure["layout"]["hovermode"] == "y"  # a row without a bar still answers a hover


def test_figures_are_plain_json():
    figures = [
        charts.funnel_figure([("targeted", 10), ("agent ran", 8)]),
        charts.pass_rate_figure([("maven", 3, 4), ("npm", 0, 0)]),
        charts.attempts_histogram_figure({1: 5, 3: 2}),
        charts.pre_existing_figure(agent=3, pre_existing=1),
        charts.prompt_revisions_figure([(1, 2, 5), (2, 1, 5)]),
        charts.sparkline_figure([1, 2, 3]),
        charts.daily_counts_figure([date(2025, 1, 1)], [4], name="members"),
    ]
    for figure in figures:
        assert json.loads(json.dumps(figure))["data"]


def test_the_pass_rate_skips_build_systems_without_calls():
    figure = charts.pass_rate_figure([("maven", 3, 4), ("npm", 0, 0)])
    assert figure["data"][0]["x"] == ["maven"]
    assert figure["data"][0]["y"] == [75.0]


def test_the_burndown_counts_each_repository_in_its_latest_state_by_each_day():
    day = datetime(2025, 3, 1, 12, 0)
    events = [
        (1, day, "verify_failed"),
        (2, day + timedelta(hours=3), "succeeded"),
        (1, day + timedelta(days=1), "succeeded"),
        (3, day + timedelta(days=2), "agent_error"),
    ]
    days, series = charts.burndown_series(events, start=date(2025, 3, 1), end=date(2025, 3, 3), total=4)
    assert days == [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)]
    assert series["succeeded"] == [1, 2, 2]
    assert series["verify_failed"] == [1, 0, 0]
    assert series["agent_error"] == [0, 0, 1]
    assert series["not_started"] == [2, 2, 1]
    for index in range(3):
        assert sum(values[index] for values in series.values()) == 4


def test_the_burndown_ignores_nothing_before_its_first_day():
    events = [(1, date(2025, 2, 20), "succeeded")]
    _, series = charts.burndown_series(events, start=date(2025, 3, 1), end=date(2025, 3, 1), total=1)
    assert series["succeeded"] == [1]
    assert series["not_started"] == [0]


def test_safe_text_shortens_long_text():
    assert charts.safe_text("a" * 500, limit=10) == "a" * 9 + "…"
