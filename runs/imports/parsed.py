"""The attempt `parse_trace` reads from a trace: its verifier calls, judge verdict and span outline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    # Links the trace claimed but may not make (another repository's pull request, a foreign host):
    # the attempt is stored without them and each reason becomes an error row of the import.
    link_errors: list[str] = field(default_factory=list)

    def link_refuse(self, reason: str) -> None:
        """Drops the trace's pull request link, recording why."""
        self.pr_url = ""
        self.link_errors.append(reason)
        self.problems.append(f"{reason}; not linked")
