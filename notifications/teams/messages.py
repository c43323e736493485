"""Slack texts of team digests, their follow-ups and escalations, built from plain line dicts; pure functions."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string

from notifications.nudges.messages import (
    CHECK_LABELS,
    HEADER_TEXT_LIMIT,
    MAX_BLOCKS,
    MAX_NAME_CHARS,
    REVIEW_LABELS,
    SECTION_TEXT_LIMIT,
    _age,
    _pack_lines,
    _section,
    _shorten,
    _state,
    mrkdwn_escape,
    mrkdwn_link,
)

MAX_LINES = 40
MAX_CHANGES = 30


def line_label(line: dict) -> str:
    return f"{_shorten(line['repo'], MAX_NAME_CHARS)}#{line['number']}"


def render_line(line: dict) -> str:
    """One bullet: PR link, migration, age, CI, review, and whether it is stale."""
    return render_to_string(
        "notifications/teams/slack/pr_line.txt",
        {
            "link": mrkdwn_link(line["url"], line_label(line)),
            "migration": mrkdwn_escape(_shorten(line["migration"], MAX_NAME_CHARS)),
            "age": _age(line["age_days"]),
            "checks": _state(line["checks"], CHECK_LABELS),
            "review": _state(line["review"], REVIEW_LABELS),
            "stale": line["stale"],
        },
    ).strip()


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": _shorten(text, HEADER_TEXT_LIMIT), "emoji": True}}


def _with_lines(blocks: list[dict], lines: list[dict]) -> list[dict]:
    if not lines:
        return blocks
    blocks.append({"type": "divider"})
    rendered = [render_line(line) for line in lines[:MAX_LINES]]
    sections, listed = _pack_lines(rendered, max_sections=MAX_BLOCKS - len(blocks) - 1)
    blocks.extend(_section(text) for text in sections)
    if len(lines) > listed:
        more = f"…and {len(lines) - listed} more in the inbox"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return blocks


def digest_message(
    *, team_name: str, lines: list[dict], stale_days: int, inbox_url: str
) -> tuple[str, list[dict[str, Any]]]:
    """The day's digest: one intro, then every open pull request of the team (stale ones first)."""
    lines = sorted(lines, key=lambda line: (not line["stale"], -line["age_days"], line["repo"]))
    intro = render_to_string(
        "notifications/teams/slack/digest.txt",
        {
            "team_name": mrkdwn_escape(_shorten(team_name, MAX_NAME_CHARS)),
            "pr_count": len(lines),
            "migration_count": len({line["migration"] for line in lines}),
            "stale_count": sum(1 for line in lines if line["stale"]),
            "stale_days": stale_days,
            "inbox_link": mrkdwn_link(inbox_url, "open the team inbox"),
        },
    ).strip()[:SECTION_TEXT_LIMIT]
    blocks = [_header(f"Agent pull requests for {team_name}: {len(lines)} open"), _section(intro)]
    return intro, _with_lines(blocks, lines)


def digest_changes(before: list[dict], after: list[dict], *, closed: dict[int, str]) -> list[str]:
    """What changed between two snapshots of the open pull requests, as mrkdwn bullets (escaped).

    `closed` names the new state (merged, closed) of pull requests that left the open list.
    """
    old = {line["pr"]: line for line in before}
    new = {line["pr"]: line for line in after}
    changes = []
    for pr_id, line in new.items():
        link = mrkdwn_link(line["url"], line_label(line))
        was = old.get(pr_id)
        if was is None:
            changes.append(f"{link} is new ({mrkdwn_escape(_shorten(line['migration'], MAX_NAME_CHARS))})")
            continue
        if was["checks"] != line["checks"]:
            changes.append(f"{link} CI: {_state(line['checks'], CHECK_LABELS)}")
        if was["review"] != line["review"]:
            changes.append(f"{link} review: {_state(line['review'], REVIEW_LABELS)}")
        if line["stale"] and not was["stale"]:
            changes.append(f"{link} is now stale")
    for pr_id, line in old.items():
        if pr_id not in new:
            state = mrkdwn_escape(_shorten(closed.get(pr_id, "closed"), 40))
            changes.append(f"{mrkdwn_link(line['url'], line_label(line))} was {state}")
    return changes


def followup_message(*, changes: list[str]) -> tuple[str, list[dict[str, Any]]]:
    shown = changes[:MAX_CHANGES]
    if len(changes) > len(shown):
        shown.append(f"…and {len(changes) - len(shown)} more changes")
    text = render_to_string("notifications/teams/slack/followup.txt", {"changes": shown}).strip()
    sections, _ = _pack_lines(text.split("\n"), max_sections=MAX_BLOCKS)
    return text[:SECTION_TEXT_LIMIT], [_section(section) for section in sections]


def escalation_message(
    *, team_name: str, lines: list[dict], stale_days: int, inbox_url: str
) -> tuple[str, list[dict[str, Any]]]:
    intro = render_to_string(
        "notifications/teams/slack/escalation.txt",
        {
            "team_name": mrkdwn_escape(_shorten(team_name, MAX_NAME_CHARS)),
            "pr_count": len(lines),
            "stale_days": stale_days,
            "inbox_link": mrkdwn_link(inbox_url, "the team inbox"),
        },
    ).strip()[:SECTION_TEXT_LIMIT]
    blocks = [_header(f"Stale agent pull requests of {team_name}"), _section(intro)]
    return intro, _with_lines(blocks, lines)
