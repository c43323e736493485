"""Reads one MLflow trace into an attempt, following docs/trace-convention.md.

Pure: no ORM. The importer service writes what `parse_trace` returns.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from runs.textsafe import cap_text, clean_text

TAG_MIGRATION = "fleet.migration"
TAG_REPO = "fleet.repo"
TAG_ATTEMPT = "fleet.attempt"
TAG_PHASE = "fleet.phase"
TAG_PROMPT_REV = "fleet.prompt_rev"
TAG_PR_URL = "fleet.pr_url"
TAG_TITLE = "fleet.migration_title"
TAG_OUTCOME = "fleet.outcome"

PHASES = ("baseline", "migration")
VERIFY_NAMES = frozenset({"verify", "tool_verify"})
MCP_VERIFY = re.compile(r"^tool_mcp__[\w.-]+__verify$")
REPO_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")
LLM_TYPES = frozenset({"LLM", "CHAT_MODEL"})
TOOLISH_TYPES = frozenset({"TOOL", "UNKNOWN", ""})
MAX_TREE_SPANS = 500

# Build, test and lint commands whose Bash output is verifier output, most specific first.
BUILD_COMMANDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), kind)
    for pattern, kind in (
        (r"(^|[\s;&|/])(mvn|mvnw)(\s|$)", "maven"),
        (r"(^|[\s;&|/])(gradle|gradlew)(\s|$)", "gradle"),
        (r"(^|[\s;&|])(npx\s+)?tsc(\s|$)", "tsc"),
        (r"(^|[\s;&|])(npx\s+)?eslint(\s|$)", "eslint"),
        (r"(^|[\s;&|])(npx\s+)?jest(\s|$)", "jest"),
        (r"(^|[\s;&|])(npm|yarn|pnpm)\s+(test|run|ci|install|build|lint)\b", "npm"),
        (r"(^|[\s;&|])(yarn|pnpm)(\s|$)", "npm"),
        (r"(^|[\s;&|])(python3?\s+-m\s+)?(pytest|tox)(\s|$)", "pytest"),
        (r"(^|[\s;&|])go\s+(test|build|vet)\b", "go"),
        (r"(^|[\s;&|])cargo\s+\w+", "cargo"),
        (r"(^|[\s;&|])dotnet\s+(build|test)\b", "dotnet"),
        (r"(^|[\s;&|])bazel\s+(build|test)\b", "bazel"),
        (r"(^|[\s;&|])make(\s|$)", "make"),
    )
)
FAILURE_TEXT = re.compile(
    r"BUILD FAILURE|FAILURE: Build failed|npm ERR!|npm error|^FAILED |\bFAILED\b.*::|=+ .*\bfailed\b|"
    r"error\[E\d+\]|^--- FAIL|^FAIL\s|error TS\d+|\d+ problems? \(\d+ errors?|Tests?:\s+\d+ failed|"
    r"^E\s{3}|Traceback \(most recent call last\)|\[ERROR\]|^error:|compilation failed|exit code [1-9]|"
    r"Process completed with exit code [1-9]",
    re.MULTILINE,
)


class TraceSkipped(Exception):
    """The trace is not a fleet attempt (no fleet tags, or still running)."""


class TraceRejected(Exception):
    """The trace claims to be a fleet attempt but cannot be read as one."""


@dataclass
class ParsedVerifier:
    position: int
    span_id: str
    span_name: str
    kind: str
    passed: bool
    output: str
    output_size: int
    truncated: bool
    exit_code: int | None = None
    command: str = ""


@dataclass
class ParsedJudge:
    verdict: str
    rationale: str
    source: str


@dataclass
class ParsedAttempt:
    trace_id: str
    experiment_id: str
    migration: str
    repo: str
    number: int
    phase: str
    trace_state: str
    outcome: str
    prompt_rev: int | None = None
    prompt_text: str = ""
    migration_title: str = ""
    pr_url: str = ""
    started_ms: int | None = None
    ended_ms: int | None = None
    duration_ms: int | None = None
    llm_calls: int = 0
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    verifiers: list[ParsedVerifier] = field(default_factory=list)
    judge: ParsedJudge | None = None
    problems: list[str] = field(default_factory=list)
    span_tree: list[dict[str, Any]] = field(default_factory=list)


def info_fingerprint(info: Any) -> str:
    """A hash of what can change on a finished trace: state, tags, metadata, assessments."""
    parts = [
        str(_state_name(info)),
        str(info.execution_duration),
        json.dumps(sorted((info.tags or {}).items()), default=str),
        json.dumps(sorted((info.trace_metadata or {}).items()), default=str),
    ]
    for assessment in getattr(info, "assessments", None) or []:
        parts.append(f"{assessment.name}|{_assessment_value(assessment)}|{getattr(assessment, 'rationale', '')}")
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()


def has_fleet_tags(info: Any) -> bool:
    return any(key.startswith("fleet.") for key in (info.tags or {}))


def is_finished(info: Any) -> bool:
    return _state_name(info) not in ("IN_PROGRESS", "STATE_UNSPECIFIED")


def parse_trace(trace: Any, *, output_cap: int, expected_spans: int | None = None) -> ParsedAttempt:
    """Reads an MLflow `Trace` into a `ParsedAttempt`, or raises TraceSkipped/TraceRejected."""
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
    if not REPO_NAME.match(repo):
        raise TraceRejected(f"fleet.repo {repo[:80]!r} is not of the form owner/name")
    phase = tags.get(TAG_PHASE, "migration").strip() or "migration"
    if phase not in PHASES:
        raise TraceRejected(f"fleet.phase {phase[:40]!r} is neither 'baseline' nor 'migration'")
    number = _int_tag(tags, TAG_ATTEMPT, default=1)
    if number is None or number < 1:
        raise TraceRejected(f"fleet.attempt {tags.get(TAG_ATTEMPT)!r} is not a positive whole number")
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
        pr_url=_pr_url(tags.get(TAG_PR_URL, ""), problems),
        started_ms=started_ms,
        duration_ms=duration_ms,
        ended_ms=(started_ms + duration_ms) if started_ms is not None and duration_ms is not None else None,
        problems=problems,
    )

    spans = list(trace.data.spans or [])
    if expected_spans is not None and len(spans) < expected_spans:
        problems.append(f"trace has {len(spans)} of {expected_spans} spans: the rest were lost in export")
    _read_spans(parsed, spans, output_cap=output_cap)
    _read_assessments(parsed, getattr(info, "assessments", None) or [])
    _read_usage(parsed, info, spans)
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


def _read_spans(parsed: ParsedAttempt, spans: list[Any], *, output_cap: int) -> None:
    depth_of: dict[str, int] = {}
    judge_span: ParsedJudge | None = None
    for span in spans:
        span_type = str(span.span_type or "")
        name = str(span.name or "")
        parent = span.parent_id
        depth = 0 if parent is None else depth_of.get(parent, 0) + 1
        depth_of[span.span_id] = depth
        if span_type in LLM_TYPES and name != "judge":
            parsed.llm_calls += 1
        if parent is None and not parsed.prompt_text:
            inputs = span.inputs
            if isinstance(inputs, dict) and isinstance(inputs.get("prompt"), str):
                parsed.prompt_text = clean_text(inputs["prompt"])[:200_000]
        node: dict[str, Any] = {
            "id": span.span_id,
            "parent": parent,
            "name": clean_text(name)[:200],
            "type": span_type,
            "depth": depth,
            "status": _status_name(span),
            "start_ms": (span.start_time_ns or 0) // 1_000_000,
            "duration_ms": ((span.end_time_ns or span.start_time_ns or 0) - (span.start_time_ns or 0)) // 1_000_000,
        }
        verifier = _read_verifier(
            span, name, position=len(parsed.verifiers), output_cap=output_cap, problems=parsed.problems
        )
        if verifier is not None:
            node["verifier"] = verifier.position
            parsed.verifiers.append(verifier)
        elif name == "judge":
            judge_span = _read_judge_span(span, parsed.problems) or judge_span
            node["judge"] = True
        if len(parsed.span_tree) < MAX_TREE_SPANS:
            parsed.span_tree.append(node)
    if len(spans) > MAX_TREE_SPANS:
        parsed.problems.append(f"span outline keeps the first {MAX_TREE_SPANS} of {len(spans)} spans")
    if judge_span is not None:
        parsed.judge = judge_span


def _read_verifier(span: Any, name: str, *, position: int, output_cap: int, problems: list[str]):
    # Decoding a span's attributes is the costly part of reading it: only tool spans can
    # name their tool in an attribute.
    tool_name = ""
    if str(span.span_type or "") in TOOLISH_TYPES:
        tool_name = str((span.attributes or {}).get("tool_name") or "")
    if name in VERIFY_NAMES or MCP_VERIFY.match(name) or tool_name in VERIFY_NAMES or MCP_VERIFY.match(tool_name):
        return _verify_call(span, name, position=position, output_cap=output_cap, problems=problems)
    if name == "tool_Bash" or tool_name == "Bash":
        return _bash_call(span, name, position=position, output_cap=output_cap)
    return None


def _verify_call(span: Any, name: str, *, position: int, output_cap: int, problems: list[str]) -> ParsedVerifier:
    outputs = span.outputs
    data: Any = outputs
    if isinstance(outputs, dict) and isinstance(outputs.get("result"), list):
        data = _join_text_blocks(outputs["result"])
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            pass
    if isinstance(data, dict) and ("passed" in data or "output" in data):
        text = data.get("output")
        text = text if isinstance(text, str) else json.dumps(text, default=str) if text is not None else ""
        passed = data.get("passed")
        exit_code = _as_int(data.get("exit_code"))
        if not isinstance(passed, bool):
            passed = exit_code == 0 if exit_code is not None else not FAILURE_TEXT.search(text)
        kind = str(data.get("verifier") or "") or _kind_from_text(text)
        return _verifier(span, name, position, kind, passed, text, output_cap, exit_code=exit_code)
    raw = data if isinstance(data, str) else "" if data is None else json.dumps(data, default=str)
    problems.append(f"verifier output of span {name!r} is not the expected JSON; kept as text")
    passed = bool(raw) and not FAILURE_TEXT.search(raw)
    return _verifier(span, name, position, _kind_from_text(raw), passed, raw, output_cap)


def _bash_call(span: Any, name: str, *, position: int, output_cap: int) -> ParsedVerifier | None:
    inputs = span.inputs if isinstance(span.inputs, dict) else {}
    command = inputs.get("command")
    if not isinstance(command, str):
        return None
    kind = next((kind for pattern, kind in BUILD_COMMANDS if pattern.search(command)), None)
    if kind is None:
        return None
    outputs = span.outputs
    exit_code = None
    is_error = None
    if isinstance(outputs, dict):
        exit_code = _as_int(outputs.get("exit_code", outputs.get("returncode")))
        is_error = outputs.get("is_error") if isinstance(outputs.get("is_error"), bool) else None
        if isinstance(outputs.get("result"), list):
            text = _join_text_blocks(outputs["result"])
        elif "stdout" in outputs or "stderr" in outputs:
            text = "\n".join(str(outputs.get(key) or "") for key in ("stdout", "stderr")).strip("\n")
        else:
            text = str(outputs.get("output") or outputs.get("content") or "")
    else:
        text = "" if outputs is None else str(outputs)
    if is_error is None and isinstance((span.attributes or {}).get("is_error"), bool):
        is_error = span.attributes["is_error"]
    if exit_code is not None:
        passed = exit_code == 0
    elif is_error is not None:
        passed = not is_error
    else:
        passed = not FAILURE_TEXT.search(text)
    return _verifier(span, name, position, kind, passed, text, output_cap, exit_code=exit_code, command=command)


def _verifier(span, name, position, kind, passed, text, output_cap, *, exit_code=None, command="") -> ParsedVerifier:
    cleaned = clean_text(text)
    capped, truncated = cap_text(cleaned, output_cap)
    return ParsedVerifier(
        position=position,
        span_id=str(span.span_id or ""),
        span_name=clean_text(name)[:300],
        kind=clean_text(kind or "unknown")[:40].lower(),
        passed=bool(passed),
        output=capped,
        output_size=len(text.encode("utf-8", "surrogatepass")) if len(text) < 50_000_000 else len(text),
        truncated=truncated,
        exit_code=exit_code,
        command=clean_text(command)[:2000],
    )


def _read_judge_span(span: Any, problems: list[str]) -> ParsedJudge | None:
    data = span.outputs
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            problems.append("judge span output is not JSON; ignored")
            return None
    if not isinstance(data, dict) or str(data.get("verdict", "")).lower() not in ("approve", "reject", "veto"):
        problems.append("judge span has no verdict of approve, reject or veto; ignored")
        return None
    return ParsedJudge(str(data["verdict"]).lower(), clean_text(str(data.get("rationale") or ""))[:20_000], "span")


def _read_assessments(parsed: ParsedAttempt, assessments: list[Any]) -> None:
    for assessment in assessments:
        if assessment.name != "judge" or getattr(assessment, "valid", True) is False:
            continue
        value = str(_assessment_value(assessment) or "").lower()
        if value in ("approve", "reject", "veto"):
            rationale = clean_text(str(getattr(assessment, "rationale", "") or ""))[:20_000]
            parsed.judge = ParsedJudge(value, rationale, "assessment")


def _read_usage(parsed: ParsedAttempt, info: Any, spans: list[Any]) -> None:
    usage = _safe(lambda: info.token_usage)
    if isinstance(usage, dict):
        parsed.input_tokens = _as_int(usage.get("input_tokens"))
        parsed.output_tokens = _as_int(usage.get("output_tokens"))
    cost = _safe(lambda: info.cost)
    if isinstance(cost, dict) and cost.get("total_cost") is not None:
        parsed.cost_usd = float(cost["total_cost"])
    # MLflow sums token usage and cost into the trace metadata when it ends; the spans are
    # read only for traces that lack that summary (older writers, partial traces).
    if usage is None:
        tokens_in = tokens_out = 0
        span_cost = 0.0
        seen_tokens = seen_cost = False
        for span in spans:
            if str(span.span_type or "") not in LLM_TYPES:
                continue
            attributes = span.attributes or {}
            span_usage = attributes.get("mlflow.chat.tokenUsage")
            if isinstance(span_usage, dict):
                seen_tokens = True
                tokens_in += _as_int(span_usage.get("input_tokens")) or 0
                tokens_out += _as_int(span_usage.get("output_tokens")) or 0
            llm_cost = attributes.get("mlflow.llm.cost")
            if isinstance(llm_cost, dict) and llm_cost.get("total_cost") is not None:
                seen_cost = True
                span_cost += float(llm_cost["total_cost"])
        if parsed.input_tokens is None and seen_tokens:
            parsed.input_tokens, parsed.output_tokens = tokens_in, tokens_out
        if parsed.cost_usd is None and seen_cost:
            parsed.cost_usd = span_cost


def _join_text_blocks(blocks: list[Any]) -> str:
    texts = []
    for block in blocks:
        if isinstance(block, dict) and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif isinstance(block, str):
            texts.append(block)
    return "".join(texts)


def _kind_from_text(text: str) -> str:
    head = text[:20_000]
    for marker, kind in (
        ("[INFO] BUILD", "maven"),
        ("[ERROR]", "maven"),
        ("FAILURE: Build failed", "gradle"),
        ("npm ERR!", "npm"),
        ("error TS", "tsc"),
        ("--- FAIL", "go"),
        ("error[E", "cargo"),
        ("short test summary", "pytest"),
    ):
        if marker in head:
            return kind
    return "unknown"


def _pr_url(value: str, problems: list[str]) -> str:
    value = clean_text(value).strip()
    if value and not re.match(r"^https?://[^\s<>\"']+$", value):
        problems.append("fleet.pr_url is not an http(s) URL; ignored")
        return ""
    return value[:500]


def _int_tag(tags: dict[str, str], key: str, *, default: int | None) -> int | None:
    if key not in tags:
        return default
    return _as_int(tags[key])


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _state_name(info: Any) -> str:
    state = getattr(info, "state", None)
    return str(getattr(state, "value", state) or "")


def _status_name(span: Any) -> str:
    status = getattr(span, "status", None)
    code = getattr(status, "status_code", status)
    return str(getattr(code, "value", code) or "")


def _experiment_id(info: Any) -> str:
    return str(info.experiment_id or "")


def _assessment_value(assessment: Any) -> Any:
    feedback = getattr(assessment, "feedback", None)
    if feedback is not None:
        return getattr(feedback, "value", None)
    return getattr(assessment, "value", None)


def _safe(getter):
    try:
        return getter()
    except (ValueError, TypeError, KeyError):
        return None
