"""Reads one MLflow trace into an attempt, following docs/trace-convention.md.

Pure: no ORM. The importer service writes what `parse_trace` returns.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from fleetui.common.text import clean_text
from runs.fleet.names import repository_name_error
from runs.github.links import pr_url_for_repository
from runs.imports.parsed import ParsedAttempt
from runs.imports.pricing import ModelPrices
from runs.imports.spans import assessment_value, read_assessments, read_spans, read_usage

TAG_MIGRATION = "fleet.migration"
TAG_REPO = "fleet.repo"
TAG_ATTEMPT = "fleet.attempt"
TAG_PHASE = "fleet.phase"
TAG_PROMPT_REV = "fleet.prompt_rev"
TAG_PR_URL = "fleet.pr_url"
TAG_TITLE = "fleet.migration_title"
TAG_OUTCOME = "fleet.outcome"

PHASES = ("baseline", "migration")
# Attempt and prompt revision numbers: plain decimal digits, small enough for any database's integer.
WHOLE_NUMBER = re.compile(r"^[0-9]{1,9}$")
SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")


class TraceSkipped(Exception):
    """The trace is not a fleet attempt (no fleet tags, or still running)."""


class TraceRejected(Exception):
    """The trace claims to be a fleet attempt but cannot be read as one."""


def info_fingerprint(info: Any) -> str:
    """A hash of what can change on a finished trace: state, tags, metadata, assessments."""
    parts = [
        str(_state_name(info)),
        str(info.execution_duration),
        json.dumps(sorted((info.tags or {}).items()), default=str),
        json.dumps(sorted((info.trace_metadata or {}).items()), default=str),
    ]
    for assessment in getattr(info, "assessments", None) or []:
        parts.append(f"{assessment.name}|{assessment_value(assessment)}|{getattr(assessment, 'rationale', '')}")
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()


def has_fleet_tags(info: Any) -> bool:
    return any(key.startswith("fleet.") for key in (info.tags or {}))


def is_finished(info: Any) -> bool:
    return _state_name(info) not in ("IN_PROGRESS", "STATE_UNSPECIFIED")


def parse_trace(
    trace: Any,
    *,
    output_cap: int,
    expected_spans: int | None = None,
    github_url: str = "https://github.com",
    prices: ModelPrices | None = None,
) -> ParsedAttempt:
    """Reads an MLflow `Trace` into a `ParsedAttempt`, or raises TraceSkipped/TraceRejected.

    `github_url` is where pull requests live: a `fleet.pr_url` elsewhere is refused (see `link_errors`).
    """
    info = trace.info
    tags = info.tags or {}
    if not has_fleet_tags(info):
        raise TraceSkipped("no fleet.* tags: not an agent session of a migration")
    if not is_finished(info):
        raise TraceSkipped("trace is still in progress")

    migration = clean_text(tags.get(TAG_MIGRATION, "")).strip()
    repo = clean_text(tags.get(TAG_REPO, "")).strip()
    missing = [tag for tag, value in ((TAG_MIGRATION, migration), (TAG_REPO, repo)) if not value]
    if missing:
        raise TraceRejected(f"missing required tag {', '.join(missing)} (tags may have been dropped)")
    if not SLUG.match(migration):
        raise TraceRejected(f"fleet.migration {migration[:80]!r} is not a valid slug")
    repo_error = repository_name_error(repo)
    if repo_error:
        raise TraceRejected(f"fleet.repo {repo_error}")
    phase = tags.get(TAG_PHASE, "migration").strip() or "migration"
    if phase not in PHASES:
        raise TraceRejected(f"fleet.phase {phase[:40]!r} is neither 'baseline' nor 'migration'")
    # 0 is a natural number for a baseline ("before the first attempt"), so numbers start at 0.
    number = _int_tag(tags, TAG_ATTEMPT, default=1)
    if number is None:
        raise TraceRejected(f"fleet.attempt {str(tags.get(TAG_ATTEMPT))[:40]!r} is not a whole number 0 or more")
    prompt_rev = _int_tag(tags, TAG_PROMPT_REV, default=None)

    problems: list[str] = []
    if TAG_PROMPT_REV in tags and prompt_rev is None:
        problems.append(f"fleet.prompt_rev {tags[TAG_PROMPT_REV][:40]!r} is not a number; ignored")
    started_ms = info.request_time
    duration_ms = info.execution_duration
    parsed = ParsedAttempt(
        trace_id=info.trace_id,
        experiment_id=_experiment_id(info),
        migration=migration,
        repo=repo,
        number=number,
        phase=phase,
        trace_state=_state_name(info),
        outcome="",
        prompt_rev=prompt_rev,
        migration_title=clean_text(tags.get(TAG_TITLE, ""))[:300],
        pr_url="",
        started_ms=started_ms,
        duration_ms=duration_ms,
        ended_ms=(started_ms + duration_ms) if started_ms is not None and duration_ms is not None else None,
        problems=problems,
    )

    if tags.get(TAG_PR_URL, "").strip():
        parsed.pr_url = _pr_url(parsed, tags[TAG_PR_URL], github_url=github_url)
    spans = list(trace.data.spans or [])
    if expected_spans is not None and len(spans) < expected_spans:
        problems.append(f"trace has {len(spans)} of {expected_spans} spans: the rest were lost in export")
    read_spans(parsed, spans, output_cap=output_cap)
    read_assessments(parsed, getattr(info, "assessments", None) or [])
    read_usage(parsed, info, spans, prices)
    parsed.outcome = derive_outcome(parsed, tags.get(TAG_OUTCOME, ""))
    return parsed


def derive_outcome(parsed: ParsedAttempt, outcome_tag: str) -> str:
    """The attempt's outcome, by the rules in docs/trace-convention.md."""
    if outcome_tag == "no_change":
        return "no_change"
    last_by_kind: dict[str, bool] = {}
    for verifier in parsed.verifiers:
        last_by_kind[verifier.kind] = verifier.passed
    if any(passed is False for passed in last_by_kind.values()):
        return "verify_failed"
    if parsed.judge is not None and parsed.judge.verdict in ("reject", "veto"):
        return "judge_rejected"
    if outcome_tag == "agent_error" or parsed.trace_state == "ERROR":
        return "agent_error"
    return "succeeded"


def _pr_url(parsed: ParsedAttempt, value: str, *, github_url: str) -> str:
    """The canonical URL of the trace's own pull request, or "" with the reason in `link_errors`."""
    value = clean_text(value).strip()
    try:
        if len(value) > 500 or not re.match(r"^https?://[^\s<>\"']+$", value):
            raise ValueError("is not an http(s) URL of at most 500 characters")
        return pr_url_for_repository(value, repo=parsed.repo, web_url=github_url)
    except ValueError as exc:
        parsed.link_refuse(f"fleet.pr_url {value[:200]!r} {exc}")
        return ""


def _int_tag(tags: dict[str, str], key: str, *, default: int | None) -> int | None:
    if key not in tags:
        return default
    value = str(tags[key]).strip()
    return int(value) if WHOLE_NUMBER.match(value) else None


def _state_name(info: Any) -> str:
    state = getattr(info, "state", None)
    return str(getattr(state, "value", state) or "")


def _experiment_id(info: Any) -> str:
    return str(info.experiment_id or "")
