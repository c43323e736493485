"""Build one team's Slack nudge (Block Kit blocks and fallback text) from plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote, urlsplit

from django.template.loader import render_to_string

# Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks).
MAX_BLOCKS = 50
SECTION_TEXT_LIMIT = 3000
HEADER_TEXT_LIMIT = 150
FALLBACK_TEXT_LIMIT = 3000
DEFAULT_MAX_PRS = 40

# Untrusted strings are shortened before escaping so one PR line always fits in a section.
MAX_NAME_CHARS = 100
MAX_STATE_CHARS = 40
MAX_URL_CHARS = 1000

CHECK_LABELS = {
    "success": ":white_check_mark: passing",
    "passing": ":white_check_mark: passing",
    "failure": ":x: failing",
    "failing": ":x: failing",
    "error": ":x: failing",
    "pending": ":hourglass_flowing_sand: running",
    "running": ":hourglass_flowing_sand: running",
    "none": "no checks",
}
REVIEW_LABELS = {
    "approved": ":white_check_mark: approved",
    "changes_requested": ":warning: changes requested",
    "commented": "commented",
    "review_required": "waiting for review",
    "pending": "waiting for review",
    "none": "waiting for review",
}


@dataclass(frozen=True)
class PrLine:
    repo: str
    url: str
    number: int
    age_days: int
    checks: str
    review: str
    # A line the owner chose to list although it is not ready to merge, with the reasons why.
    ready: bool = True
    reasons: tuple[str, ...] = ()


def mrkdwn_escape(text: Any) -> str:
    """Escape &, < and > so untrusted text cannot form links, mentions (<!channel>) or user pings."""
    return str(text if text is not None else "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _shorten(text: Any, limit: int) -> str:
    text = " ".join(str(text if text is not None else "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def safe_url(url: str | None) -> str | None:
    """An http(s) URL made safe inside <url|label>, or None when it cannot be linked safely."""
    if not url or len(url) > MAX_URL_CHARS:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    # '|' would end the URL and start the label; '<', '>' and spaces would break the link syntax.
    return quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~-._")


def mrkdwn_link(url: str | None, label: Any) -> str:
    """A Slack link with an escaped label, or just the escaped label when the URL is unusable."""
    safe_label = mrkdwn_escape(_shorten(label, MAX_NAME_CHARS))
    href = safe_url(url)
    return f"<{href.replace('&', '&amp;')}|{safe_label}>" if href else safe_label


def _age(days: int) -> str:
    if days <= 0:
        return "opened today"
    return f"{days} day{'s' if days != 1 else ''} old"


def _state(value: str, labels: dict[str, str]) -> str:
    key = (value or "none").strip().lower().replace(" ", "_")
    return labels.get(key) or mrkdwn_escape(_shorten(value, MAX_STATE_CHARS))


def render_pr_line(pr: PrLine) -> str:
    """One bullet line: PR link, age, CI state and review state; a line not ready to merge says so."""
    return render_to_string(
        "notifications/slack/pr_line.txt",
        {
            "link": mrkdwn_link(pr.url, f"{_shorten(pr.repo, MAX_NAME_CHARS)}#{pr.number}"),
            "age": _age(pr.age_days),
            "checks": _state(pr.checks, CHECK_LABELS),
            "review": _state(pr.review, REVIEW_LABELS),
            "not_ready": "" if pr.ready else mrkdwn_escape(_shorten(", ".join(pr.reasons) or "not ready", 200)),
        },
    ).strip()


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _pack_lines(lines: list[str], *, max_sections: int) -> tuple[list[str], int]:
    """Group lines into section texts under the size limit; returns the texts and how many lines fit."""
    sections: list[str] = []
    current: list[str] = []
    size = 0
    used = 0
    for line in lines:
        extra = len(line) + (1 if current else 0)
        if current and size + extra > SECTION_TEXT_LIMIT:
            if len(sections) + 1 >= max_sections:
                break
            sections.append("\n".join(current))
            current, size, extra = [], 0, len(line)
        current.append(line)
        size += extra
        used += 1
    if current:
        sections.append("\n".join(current))
    return sections, used


def build_nudge_message(
    *,
    team_name: str,
    migration_title: str,
    migration_url: str | None,
    why: str,
    ask: str,
    due: date | None,
    prs: list[PrLine],
    max_prs: int = DEFAULT_MAX_PRS,
) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and Block Kit blocks nudging one team about its open migration PRs.

    Only the lines ready to merge are asked about; any others come after them, marked not ready.
    """
    prs = sorted(prs, key=lambda pr: not pr.ready)
    ready = sum(1 for pr in prs if pr.ready)
    migration_link = mrkdwn_link(migration_url, migration_title)
    intro = render_to_string(
        "notifications/slack/nudge.txt",
        {
            "team_name": mrkdwn_escape(_shorten(team_name, MAX_NAME_CHARS)),
            "pr_count": ready,
            "unready_count": len(prs) - ready,
            "migration_link": f"*{migration_link}*",
            "ask": mrkdwn_escape(ask),
            "due": f"{due:%a} {due.isoformat()}" if due else "",
            "why": mrkdwn_escape(why),
        },
    ).strip()
    intro = intro[:SECTION_TEXT_LIMIT]
    header = _shorten(
        f"{migration_title}: {len(prs)} PR{'s' if len(prs) != 1 else ''} for {team_name}", HEADER_TEXT_LIMIT
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        _section(intro),
    ]
    listed = 0
    if prs:
        blocks.append({"type": "divider"})
        # Keep one block free for the "and N more" context line.
        budget = MAX_BLOCKS - len(blocks) - 1
        lines = [render_pr_line(pr) for pr in prs[: max(0, max_prs)]]
        sections, listed = _pack_lines(lines, max_sections=budget)
        blocks.extend(_section(text) for text in sections)
    more = len(prs) - listed
    if more > 0:
        more_text = render_to_string(
            "notifications/slack/more_prs.txt",
            {
                "more": more,
                "migration_link": mrkdwn_link(migration_url, "the migration dashboard")
                if safe_url(migration_url)
                else "",
            },
        ).strip()
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more_text}]})
    text = intro[:FALLBACK_TEXT_LIMIT]
    return text, blocks
