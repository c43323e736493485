"""Span-level readers of one MLflow trace: verifier and Bash calls, the judge, assessments, token usage."""

from __future__ import annotations

import json
import re
from typing import Any

from fleetui.common.text import cap_text, clean_text
from runs.imports.outputs import ERROR_KEYS, tool_output
from runs.imports.parsed import ParsedAttempt, ParsedJudge, ParsedVerifier
from runs.imports.pricing import ModelPrices, priced_cost

VERIFY_NAMES = frozenset({"verify", "tool_verify"})
MCP_VERIFY = re.compile(r"^tool_mcp__[\w.-]+__verify$")
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


def read_spans(parsed: ParsedAttempt, spans: list[Any], *, output_cap: int) -> None:
    """Fills in the LLM call count, prompt, verifier calls, judge span and span outline from `spans`."""
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
            span, name, span_type, position=len(parsed.verifiers), output_cap=output_cap, problems=parsed.problems
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


def _read_verifier(span: Any, name: str, span_type: str, *, position: int, output_cap: int, problems: list[str]):
    # Decoding a span's attributes is the costly part of reading it: only tool spans can name their tool in an
    # attribute, and only that attribute is decoded (`span.attributes` would decode every one, outputs included).
    tool_name = ""
    if span_type in TOOLISH_TYPES:
        tool_name = str(span.get_attribute("tool_name") or "")
    if name in VERIFY_NAMES or MCP_VERIFY.match(name) or tool_name in VERIFY_NAMES or MCP_VERIFY.match(tool_name):
        return _verify_call(span, name, position=position, output_cap=output_cap, problems=problems)
    if name == "tool_Bash" or tool_name == "Bash":
        return _bash_call(span, name, position=position, output_cap=output_cap)
    return None


def _verify_call(span: Any, name: str, *, position: int, output_cap: int, problems: list[str]) -> ParsedVerifier:
    outputs = span.outputs
    found = tool_output(outputs, _error_attributes(span))
    data: Any = outputs
    if not (isinstance(outputs, dict) and ("passed" in outputs or "output" in outputs)):
        data = found.text
        try:
            data = json.loads(data) if data[:64].lstrip().startswith("{") else data
        except (ValueError, RecursionError):
            pass
    if isinstance(data, dict) and ("passed" in data or "output" in data):
        text = data.get("output")
        text = text if isinstance(text, str) else json.dumps(text, default=str) if text is not None else ""
        passed = data.get("passed")
        exit_code = as_int(data.get("exit_code"))
        if exit_code is None:
            exit_code = found.exit_code
        if not isinstance(passed, bool):
            passed = _passed(text, exit_code=exit_code, is_error=found.is_error)
        kind = str(data.get("verifier") or "") or _kind_from_text(text)
        return _verifier(span, name, position, kind, passed, text, output_cap, exit_code=exit_code)
    raw = found.text
    problems.append(f"verifier output of span {name!r} is not the expected JSON; kept as text")
    passed = bool(raw) and _passed(raw, exit_code=found.exit_code, is_error=found.is_error)
    return _verifier(span, name, position, _kind_from_text(raw), passed, raw, output_cap, exit_code=found.exit_code)


def _bash_call(span: Any, name: str, *, position: int, output_cap: int) -> ParsedVerifier | None:
    inputs = span.inputs if isinstance(span.inputs, dict) else {}
    command = inputs.get("command")
    if not isinstance(command, str):
        return None
    kind = next((kind for pattern, kind in BUILD_COMMANDS if pattern.search(command)), None)
    if kind is None:
        return None
    found = tool_output(span.outputs, _error_attributes(span))
    passed = _passed(found.text, exit_code=found.exit_code, is_error=found.is_error)
    return _verifier(
        span, name, position, kind, passed, found.text, output_cap, exit_code=found.exit_code, command=command
    )


def _error_attributes(span: Any) -> dict[str, Any]:
    """The span's own error flags (the only attributes `tool_output` reads), each decoded alone."""
    return {key: value for key in ERROR_KEYS if (value := span.get_attribute(key)) is not None}


def _passed(text: str, *, exit_code: int | None, is_error: bool | None) -> bool:
    """An exit code decides; else the tool's error flag; else the output's own failure lines."""
    if exit_code is not None:
        return exit_code == 0
    if is_error is not None:
        return not is_error
    return not FAILURE_TEXT.search(text)


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


def read_assessments(parsed: ParsedAttempt, assessments: list[Any]) -> None:
    """A valid `judge` assessment with a known verdict overrides the judge span."""
    for assessment in assessments:
        if assessment.name != "judge" or getattr(assessment, "valid", True) is False:
            continue
        value = str(assessment_value(assessment) or "").lower()
        if value in ("approve", "reject", "veto"):
            rationale = clean_text(str(getattr(assessment, "rationale", "") or ""))[:20_000]
            parsed.judge = ParsedJudge(value, rationale, "assessment")


def read_usage(parsed: ParsedAttempt, info: Any, spans: list[Any], prices: ModelPrices | None = None) -> None:
    """Token usage and cost, from the trace summary or else summed over the LLM spans; a trace with tokens but no
    recorded cost is priced by its LLM calls' models when `prices` names them."""
    usage = _safe(lambda: info.token_usage)
    if isinstance(usage, dict):
        parsed.input_tokens = as_int(usage.get("input_tokens"))
        parsed.output_tokens = as_int(usage.get("output_tokens"))
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
            span_usage = span.get_attribute("mlflow.chat.tokenUsage")
            if isinstance(span_usage, dict):
                seen_tokens = True
                tokens_in += as_int(span_usage.get("input_tokens")) or 0
                tokens_out += as_int(span_usage.get("output_tokens")) or 0
            llm_cost = span.get_attribute("mlflow.llm.cost")
            if isinstance(llm_cost, dict) and llm_cost.get("total_cost") is not None:
                seen_cost = True
                span_cost += float(llm_cost["total_cost"])
        if parsed.input_tokens is None and seen_tokens:
            parsed.input_tokens, parsed.output_tokens = tokens_in, tokens_out
        if parsed.cost_usd is None and seen_cost:
            parsed.cost_usd = span_cost
    if parsed.cost_usd is None and prices:
        parsed.cost_usd = priced_cost(spans, prices)


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


def as_int(value: Any) -> int | None:
    """`value` as a whole number, or None."""
    if isinstance(value, bool):
        return int(value)
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _status_name(span: Any) -> str:
    status = getattr(span, "status", None)
    code = getattr(status, "status_code", status)
    return str(getattr(code, "value", code) or "")


def assessment_value(assessment: Any) -> Any:
    """The value of a feedback assessment (or of an older plain one)."""
    feedback = getattr(assessment, "feedback", None)
    if feedback is not None:
        return getattr(feedback, "value", None)
    return getattr(assessment, "value", None)


def _safe(getter):
    try:
        return getter()
    except (ValueError, TypeError, KeyError):
        return None
