"""Plotly figures for the dashboards, built from plain data; untrusted text is HTML-escaped for hover labels."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape

import plotly.graph_objects as go

STATE_ORDER = (
    "succeeded",
    "unverified",
    "no_change",
    "in_progress",
    "judge_rejected",
    "verify_failed",
    "agent_error",
    "not_started",
)
STATE_COLORS = {
    "succeeded": "#1c7c43",
    # Amber like the unverifiable layer, lighter than "no change" so the two stay apart in the burndown.
    "unverified": "#e3b341",
    "no_change": "#c49a2c",
    "in_progress": "#3b7dd8",
    "judge_rejected": "#86287a",
    "verify_failed": "#b3261e",
    "agent_error": "#e0703a",
    "not_started": "#aab3bf",
}
STATUS_COLORS = {
    "new": "#b3261e",
    "triaged": "#3b7dd8",
    "fix_in_prompt": "#7b4fc9",
    "infra_flaky": "#c49a2c",
    "pre_existing": "#8a5a00",
    "wont_fix": "#7d8794",
    "resolved": "#1c7c43",
    "regressed": "#e0703a",
}
_LAYOUT = {
    "margin": {"l": 50, "r": 20, "t": 30, "b": 40},
    "font": {"family": "system-ui, sans-serif", "size": 12},
    "paper_bgcolor": "#ffffff",
    "plot_bgcolor": "#ffffff",
}


def safe_text(text: str, limit: int = 200) -> str:
    """Shortened and HTML-escaped, because Plotly renders some HTML in labels and hover text."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    # Plotly parses <tags> and decodes &amp; &lt; &gt; but shows &quot; literally: escape no quotes.
    return escape(text, quote=False)


def _figure(traces: list, **layout) -> dict:
    fig = go.Figure(data=traces, layout={**_LAYOUT, **layout})
    return fig.to_plotly_json()


@dataclass(frozen=True)
class ClusterBar:
    """One cluster in the sizes chart; `url` goes in customdata so a click opens the cluster. `key` (the cluster's
    id) keeps two clusters with the same title apart."""

    title: str
    size: int
    status: str
    status_label: str
    url: str
    key: int | str | None = None


def funnel_figure(steps: Sequence[tuple]) -> dict:
    """Repositories left at each step, top to bottom: steps are (label, count) or (label, count, explanation).

    The explanation shows on hover; a step with no repository keeps its row, with its 0 written beside it."""
    labels = [safe_text(step[0], 60) for step in steps]
    counts = [step[1] for step in steps]
    explanations = [safe_text(step[2], 300) if len(step) > 2 else "" for step in steps]
    first = counts[0] if counts and counts[0] else 0
    texts = [f"{count} ({round(100 * count / first)}%)" if first else str(count) for count in counts]
    trace = go.Funnel(
        y=labels,
        x=counts,
        text=texts,
        textinfo="text",
        textposition=["inside" if first and count / first >= 0.25 else "outside" for count in counts],
        customdata=explanations,
        hovertemplate="<b>%{y}</b>: %{x} repositories<br>%{customdata}<extra></extra>",
        hoverlabel={"align": "left"},
        marker={"color": "#1f5fbf"},
        connector={"line": {"width": 0}},
    )
    # Hover by row, so a step with no repository (no bar to point at) still shows what it counts.
    return _figure([trace], height=320, margin={"l": 130, "r": 20, "t": 10, "b": 20}, hovermode="y")


def burndown_series(
    events: Iterable[tuple[int, datetime | date, str]], *, start: date, end: date, total: int
) -> tuple[list[date], dict[str, list[int]]]:
    """Repositories by state per day: each repository counts in the state of its latest attempt ended by that day.

    `events` are (repository id, end time, state) ordered by end time; repositories without an attempt yet count as
    not started, out of `total`. One pass over the events."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    series = {state: [0] * len(days) for state in STATE_ORDER}
    current: dict[int, str] = {}
    counts = dict.fromkeys(STATE_ORDER, 0)
    iterator = iter(events)
    pending = next(iterator, None)
    for index, day in enumerate(days):
        while pending is not None:
            repo_id, when, state = pending
            when_day = when.date() if isinstance(when, datetime) else when
            if when_day > day:
                break
            previous = current.get(repo_id)
            if previous is not None:
                counts[previous] -= 1
            state = state if state in counts else "in_progress"
            counts[state] += 1
            current[repo_id] = state
            pending = next(iterator, None)
        for state in STATE_ORDER:
            series[state][index] = counts[state]
        series["not_started"][index] = max(total - len(current), 0) + counts["not_started"]
    return days, series


def burndown_figure(days: Sequence[date], series: dict[str, list[int]], labels: dict[str, str]) -> dict:
    """Stacked areas of repositories by state per day."""
    x = [d.isoformat() for d in days]
    traces = [
        go.Scatter(
            x=x,
            y=series[state],
            name=labels.get(state, state),
            mode="lines",
            stackgroup="states",
            line={"width": 0.5, "color": STATE_COLORS[state]},
        )
        for state in STATE_ORDER
        if any(series.get(state, []))
    ]
    return _figure(traces, height=320, hovermode="x unified", legend={"orientation": "h", "y": -0.2})


def cluster_sizes_figure(bars: Sequence[ClusterBar]) -> dict:
    """Cluster sizes, largest on top, one bar per cluster and one colour per status; clicking a bar opens its
    cluster. Bars sit on their cluster's key, so two clusters with one title stay two bars; the axis shows each
    title shortened and the hover shows it whole."""
    bars = sorted(bars, key=lambda bar: -bar.size)
    keys = [f"c{bar.key if bar.key is not None else bar.url}" for bar in bars]
    by_status: dict[str, list[tuple[str, ClusterBar]]] = {}
    for key, bar in zip(keys, bars, strict=True):
        by_status.setdefault(bar.status, []).append((key, bar))
    traces = [
        go.Bar(
            x=[bar.size for _, bar in group],
            y=[key for key, _ in group],
            orientation="h",
            name=safe_text(group[0][1].status_label),
            marker={"color": STATUS_COLORS.get(status, "#7d8794")},
            customdata=[bar.url for _, bar in group],
            hovertext=[safe_text(bar.title) for _, bar in group],
            hovertemplate="%{hovertext}<br>%{x} failures<extra></extra>",
        )
        for status, group in by_status.items()
    ]
    height = max(240, 28 * len(bars) + 80)
    return _figure(
        traces,
        height=height,
        margin={"l": 320, "r": 20, "t": 10, "b": 40},
        yaxis={
            "categoryorder": "array",
            "categoryarray": list(reversed(keys)),
            "tickmode": "array",
            "tickvals": keys,
            "ticktext": [safe_text(bar.title, 60) for bar in bars],
            "automargin": True,
        },
        xaxis={
            "title": {"text": "failures"},
            "rangemode": "tozero",
            **({"dtick": 1} if bars and bars[0].size <= 10 else {}),
        },
        legend={"orientation": "h", "y": -0.15},
        barmode="overlay",
    )


def pass_rate_figure(rows: Sequence[tuple[str, int, int]]) -> dict:
    """Share of verifier calls that passed, per build system: rows are (kind, passed, total)."""
    rows = [row for row in rows if row[2]]
    return _figure(
        [
            go.Bar(
                x=[safe_text(kind, 40) for kind, _, _ in rows],
                y=[round(100 * passed / total, 1) for _, passed, total in rows],
                text=[f"{passed}/{total}" for _, passed, total in rows],
                marker={"color": "#1f5fbf"},
                hovertemplate="%{x}: %{y}% (%{text})<extra></extra>",
            )
        ],
        height=280,
        yaxis={"range": [0, 100], "title": {"text": "% passed"}},
    )


def attempts_histogram_figure(counts: dict[int, int]) -> dict:
    """How many repositories needed 1, 2, 3… attempts: `counts` maps attempts to repositories."""
    keys = sorted(counts)
    return _figure(
        [go.Bar(x=keys, y=[counts[k] for k in keys], marker={"color": "#5b6b82"})],
        height=280,
        xaxis={"title": {"text": "attempts"}, "dtick": 1},
        yaxis={"title": {"text": "repositories"}},
    )


def pre_existing_figure(*, agent: int, pre_existing: int) -> dict:
    """Failures the agent introduced against those already failing before any change."""
    return _figure(
        [
            go.Pie(
                labels=["agent-introduced", "pre-existing"],
                values=[agent, pre_existing],
                hole=0.5,
                marker={"colors": ["#b3261e", "#c49a2c"]},
                sort=False,
            )
        ],
        height=280,
    )


def prompt_revisions_figure(rows: Sequence[tuple[int, int, int]]) -> dict:
    """Failed and total attempts per prompt revision: rows are (revision number, failed, total)."""
    x = [f"r{number}" for number, _, _ in rows]
    return _figure(
        [
            go.Bar(x=x, y=[total - failed for _, failed, total in rows], name="passed", marker={"color": "#1c7c43"}),
            go.Bar(x=x, y=[failed for _, failed, _ in rows], name="failed", marker={"color": "#b3261e"}),
        ],
        height=280,
        barmode="stack",
        legend={"orientation": "h", "y": -0.2},
    )


def daily_counts_figure(days: Sequence[date], counts: Sequence[int], *, name: str, height: int = 240) -> dict:
    """A count per day as a line, for member timelines."""
    return _figure(
        [go.Scatter(x=[d.isoformat() for d in days], y=list(counts), name=name, mode="lines+markers")],
        height=height,
    )


def sparkline_figure(values: Sequence[int]) -> dict:
    """A tiny line without axes, for a trend in a table cell."""
    return _figure(
        [go.Scatter(y=list(values), mode="lines", line={"width": 1.5, "color": "#b3261e"}, hoverinfo="y")],
        height=40,
        width=160,
        margin={"l": 0, "r": 0, "t": 2, "b": 2},
        xaxis={"visible": False},
        yaxis={"visible": False},
        showlegend=False,
    )


LAYER_ORDER = ("verified", "unverifiable", "agent", "infrastructure", "pre-existing")
LAYER_COLORS = {
    "verified": "#1c7c43",
    "unverifiable": "#c49a2c",
    "agent": "#b3261e",
    "infrastructure": "#5b6b82",
    "pre-existing": "#8a5a00",
}


@dataclass(frozen=True)
class LayerCount:
    """Repositories whose latest attempt is in one layer; `url` lists them."""

    layer: str
    label: str
    count: int
    url: str


def layers_figure(counts: Sequence[LayerCount]) -> dict:
    """One stacked bar of repositories by their latest attempt's layer; clicking a segment lists them."""
    traces = [
        go.Bar(
            x=[row.count],
            y=["repositories"],
            orientation="h",
            name=safe_text(row.label),
            marker={"color": LAYER_COLORS.get(row.layer, "#7d8794")},
            customdata=[row.url],
            hovertemplate=f"{safe_text(row.label)}: %{{x}} repositories<extra></extra>",
        )
        for row in counts
        if row.count
    ]
    return _figure(
        traces,
        height=150,
        barmode="stack",
        margin={"l": 20, "r": 20, "t": 10, "b": 30},
        yaxis={"visible": False},
        xaxis={"rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.4, "traceorder": "normal"},
    )


@dataclass(frozen=True)
class SpendBar:
    """One row of the spend chart: a cluster (or the rest) and its spend per layer, in `unit`."""

    key: str
    title: str
    url: str
    by_layer: dict[str, float]


def spend_figure(rows: Sequence[SpendBar], *, labels: dict[str, str], unit: str) -> dict:
    """Spend per cluster stacked by the layer of the attempts that spent it; the costliest cluster on top."""
    keys = [row.key for row in rows]
    traces = []
    for layer in LAYER_ORDER:
        values = [round(row.by_layer.get(layer, 0), 4) for row in rows]
        if not any(values):
            continue
        traces.append(
            go.Bar(
                x=values,
                y=keys,
                orientation="h",
                name=safe_text(labels.get(layer, layer)),
                marker={"color": LAYER_COLORS.get(layer, "#7d8794")},
                customdata=[row.url for row in rows],
                hovertext=[safe_text(row.title) for row in rows],
                hovertemplate=f"%{{hovertext}}<br>{safe_text(labels.get(layer, layer))}: %{{x}} {unit}<extra></extra>",
            )
        )
    return _figure(
        traces,
        height=max(240, 28 * len(rows) + 90),
        barmode="stack",
        margin={"l": 320, "r": 20, "t": 10, "b": 40},
        yaxis={
            "categoryorder": "array",
            "categoryarray": list(reversed(keys)),
            "tickmode": "array",
            "tickvals": keys,
            "ticktext": [safe_text(row.title, 60) for row in rows],
            "automargin": True,
        },
        xaxis={"title": {"text": unit}, "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.2, "traceorder": "normal"},
    )
