"""A nudge's lines and message: one line per pull request (or failing repository), the intro text built
from them, and the blocks sent to Slack. Pure functions of the data, except `pr_line`'s reading of a row."""

from __future__ import annotations

import re
from datetime import date, datetime

from django.conf import settings
from django.urls import reverse

from notifications.nudges.messages import PrLine, build_nudge_message, mrkdwn_escape
from runs.fleet.models import Migration, PullRequest, Team

ASK = "Please review and merge these pull requests"
MAX_FAILING_NAMED = 10


def migration_url(migration: Migration) -> str:
    return settings.FLEETUI_BASE_URL + reverse("migration-detail", args=[migration.slug])


def pr_line(pr: PullRequest, now: datetime, *, reasons: list[str] | None = None) -> dict:
    """A pull request's line as the draft keeps it; `reasons` says why it is not ready (empty: ready)."""
    opened = pr.attempt.ended_at if pr.attempt_id and pr.attempt and pr.attempt.ended_at else pr.updated_at
    age = max(0, (now - opened).days) if opened else 0
    line = {
        "kind": "pr",
        "pr": pr.pk,
        "repo": pr.repository.full_name,
        "url": pr.url,
        "number": pr.number or 0,
        "age_days": age,
        "checks": pr.checks or "none",
        "review": pr.review or "none",
    }
    if reasons is not None:
        line["ready"] = not reasons
        line["reasons"] = list(reasons)
    return line


def pr_lines_of(lines: list[dict]) -> list[PrLine]:
    # Lines kept before readiness was recorded count as ready, as they were sent.
    return [
        PrLine(
            repo=line["repo"],
            url=line["url"],
            number=line["number"],
            age_days=line["age_days"],
            checks=line["checks"],
            review=line["review"],
            ready=line.get("ready", True),
            reasons=tuple(line.get("reasons", ())),
        )
        for line in lines
        if line.get("kind") == "pr"
    ]


def neutralise_broadcasts(text: str) -> str:
    # Owners edit the text; a stray <!channel> would page a whole channel, so such mentions are shown as text.
    for word in ("<!channel", "<!here", "<!everyone"):
        text = text.replace(word, "&lt;!" + word[2:])
    return text


def _built(*, team: Team, migration: Migration, why: str, due, lines: list[dict]) -> tuple[str, list[dict]]:
    """The message as drafted from the data: (mrkdwn text, blocks)."""
    return build_nudge_message(
        team_name=team.name or team.slug,
        migration_title=migration.title or migration.slug,
        migration_url=migration_url(migration),
        why=why,
        ask=ASK,
        due=due,
        prs=pr_lines_of(lines),
    )


def message_blocks(*, team: Team, migration: Migration, text: str, why: str, due, lines: list[dict]):
    """Fallback text and blocks: the (edited) intro text, then the PR lines from the data."""
    _, blocks = _built(team=team, migration=migration, why=why, due=due, lines=lines)
    text = neutralise_broadcasts(text)[:3000]
    # The intro section is the one the owner edits; the header and PR lines always come from the data.
    blocks[1] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    return text, blocks


def intro_text(*, team: Team, migration: Migration, why: str, due: date | None, lines: list[dict]) -> str:
    """The intro a new draft starts with, in mrkdwn."""
    text, _ = _built(team=team, migration=migration, why=why, due=due, lines=lines)
    failing = [line["repo"] for line in lines if line["kind"] == "failing"]
    if failing:
        named = ", ".join(mrkdwn_escape(name) for name in failing[:MAX_FAILING_NAMED])
        more = f" and {len(failing) - MAX_FAILING_NAMED} more" if len(failing) > MAX_FAILING_NAMED else ""
        text += f"\nThe migration also failed without a pull request in: {named}{more}. Please take a look."
    return text


def ready_count(lines: list[dict]) -> int:
    return sum(1 for line in lines if line.get("kind") == "pr" and line.get("ready", True))


def recount(text: str, *, before: int, after: int) -> str:
    """An edited intro with its "N pull requests from the ... migration are" moved from `before` to `after`."""
    if before == after:
        return text
    word = "pull request" if after == 1 else "pull requests"
    verb = "is" if after == 1 else "are"
    sentence = re.compile(rf"(?<!\d){before} pull requests? from the ([^\n]*?) migration (?:is|are)\b")
    if sentence.search(text):
        return sentence.sub(lambda m: f"{after} {word} from the {m.group(1)} migration {verb}", text, count=1)
    return re.sub(rf"(?<!\d){before} pull requests? from the", f"{after} {word} from the", text, count=1)


def merge_lines(old: list[dict], new: list[dict]) -> tuple[list[dict], list[int]]:
    """A draft's lines with new ones added: a pull request appears once (its newest line, in its old place),
    a failing repository once and only while it has no pull request listed, left-out pull requests only
    while they are not listed. Returns the lines and the ids of the pull requests added."""
    new_prs = {line["pr"]: line for line in new if line["kind"] == "pr"}
    old_ids = {line["pr"] for line in old if line["kind"] == "pr"}
    prs = [new_prs.get(line["pr"], line) for line in old if line["kind"] == "pr"]
    added = [line for line in new if line["kind"] == "pr" and line["pr"] not in old_ids]
    prs += added
    listed = {line["pr"] for line in prs}
    listed_repos = {line["repo"] for line in prs}
    failing, seen = [], set()
    for line in [*old, *new]:
        if line["kind"] == "failing" and line["repo"] not in listed_repos and line["repo"] not in seen:
            seen.add(line["repo"])
            failing.append(line)
    left_out, skipped = [], set()
    for line in [*new, *old]:
        if line["kind"] == "left_out" and line["pr"] not in listed and line["pr"] not in skipped:
            skipped.add(line["pr"])
            left_out.append(line)
    return prs + failing + left_out, [line["pr"] for line in added]
