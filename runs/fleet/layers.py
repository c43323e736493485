"""The layer of an attempt: where its failure comes from, or whether its pass verified anything.

Pure: it reads an attempt's outcome, its verifier calls (anything with `kind`, `passed`, `exit_code`, `command`,
`output` and `snippet`) and whether its repository's baseline failed, and answers one of the layer values below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from triage.engine.needles import AnyOf

PRE_EXISTING = "pre-existing"
INFRASTRUCTURE = "infrastructure"
AGENT = "agent"
UNVERIFIABLE = "unverifiable"
VERIFIED = "verified"

LAYERS = (PRE_EXISTING, INFRASTRUCTURE, AGENT, UNVERIFIABLE, VERIFIED)
FAILING_OUTCOMES = frozenset({"verify_failed", "judge_rejected", "agent_error"})
PASSING_OUTCOMES = frozenset({"succeeded", "no_change"})

# Failures of the machinery around the change: the network to package hosts, the hosts themselves, the runner.
_INFRASTRUCTURE = re.compile(
    "|".join(
        [
            # dependency downloads that time out or lose their connection
            r"\b(ETIMEDOUT|ECONNRESET|ECONNREFUSED|EAI_AGAIN)\b",
            r"\b(connect|read|connection|socket|operation) timed ?out\b",
            r"\bi/o timeout\b|\bTLS handshake timeout\b",
            r"\bconnection (refused|reset)\b",
            # registries answering 5xx
            r"\b5\d\d\b[\s:,-]*(service unavailable|bad gateway|gateway time-?out|internal server error)",
            r"\b(status code|status|http error|response code|got)[\s:]+5\d\d\b",
            r"\b(service unavailable|bad gateway|gateway time-?out)\b",
            # the runner killed or out of memory or disk
            r"\bOOMKilled\b|^\s*Killed\s*$|\bsignal: killed\b|\bexit (code|status)[\s:]+137\b",
            r"\bcannot allocate memory\b|\bno space left on device\b|\bENOSPC\b",
            # CI capacity
            r"\b(timed out|timeout) (while )?(waiting|queued) for (an? )?(runner|agent|executor|machine|worker)\b",
            r"\bno (available )?runners?\b|\bqueue(d)? ?time ?out\b|\binsufficient capacity\b",
        ]
    ),
    re.IGNORECASE | re.MULTILINE,
)
KILLED_EXIT_CODES = frozenset({137})
# Each alternative searched only where its literal text is: the import reads whole verifier outputs.
_INFRASTRUCTURE_ANY = AnyOf(_INFRASTRUCTURE)

# A passing call that ran no test; a count of tests above zero anywhere in the attempt outweighs it.
_NO_TESTS = re.compile(
    r"(?<![\d,.])\b0 tests?\b|\bTests run: 0\b|\bno tests (ran|run|found|to run)\b|\bcollected 0 items\b"
    r"|\bno test files\b|\bNO_TESTS\b|:test NO-SOURCE\b",
    re.IGNORECASE,
)
_SOME_TESTS = re.compile(
    r"\bTests run: [1-9]|\bcollected [1-9]\d* items?\b|(?<![\d,.])\b[1-9]\d* (tests? )?(passed|completed)\b"
    r"|\brunning [1-9]\d* tests?\b|^ok\s+\S+\s+[\d.]+s\b|\bTests:\s+[1-9]\d* passed\b",
    re.IGNORECASE | re.MULTILINE,
)
_NO_TESTS_ANY, _SOME_TESTS_ANY = AnyOf(_NO_TESTS), AnyOf(_SOME_TESTS)
# Verifiers that only format or lint: a pass of theirs alone checks no behaviour.
_FORMATTERS = frozenset(
    {
        "gofmt",
        "goimports",
        "black",
        "ruff",
        "isort",
        "flake8",
        "pylint",
        "prettier",
        "eslint",
        "rustfmt",
        "clippy",
        "spotless",
        "checkstyle",
        "ktlint",
        "lint",
        "format",
        "fmt",
    }
)
_FORMAT_COMMAND = re.compile(
    r"^\s*(?:(?:npx|yarn|pnpm(?: exec)?|poetry run|uv run|python3? -m)\s+)?"
    r"(gofmt|goimports|black|ruff|isort|flake8|pylint|prettier|eslint|rustfmt|ktlint|golangci-lint)\b"
    r"|\b(go (fmt|vet)|cargo (fmt|clippy)|spotless:(check|apply)|spotless(Check|Apply)|checkstyle:check"
    r"|npm run (lint|format)|ruff (check|format))\b",
    re.IGNORECASE,
)


def attempt_layer(*, outcome: str, verifiers: Iterable[Any], baseline_failed: bool = False) -> str:
    """The layer of one attempt; blank while it is still running or its outcome is unknown."""
    calls = list(verifiers)
    if outcome in FAILING_OUTCOMES:
        if baseline_failed:
            return PRE_EXISTING
        return INFRASTRUCTURE if any(is_infrastructure_failure(call) for call in calls if not call.passed) else AGENT
    if outcome in PASSING_OUTCOMES:
        return UNVERIFIABLE if verified_nothing(calls) else VERIFIED
    return ""


def is_infrastructure_failure(call: Any) -> bool:
    """Whether a failed verifier call failed for reasons outside the change: network, registry, runner, capacity."""
    if getattr(call, "exit_code", None) in KILLED_EXIT_CODES:
        return True
    text = "\n".join(filter(None, (getattr(call, "output", ""), getattr(call, "snippet", ""))))
    return _INFRASTRUCTURE_ANY.search(text)


def verified_nothing(calls: list[Any]) -> bool:
    """Whether passing calls checked no behaviour: none at all, only formatters or linters, or zero tests run."""
    checks = [call for call in calls if not is_formatter(call)]
    if not checks:
        return True
    outputs = "\n".join(getattr(call, "output", "") or "" for call in checks)
    return _NO_TESTS_ANY.search(outputs) and not _SOME_TESTS_ANY.search(outputs)


def is_formatter(call: Any) -> bool:
    """Whether a verifier call only formats or lints, by its kind or its command."""
    kind = (getattr(call, "kind", "") or "").strip().lower()
    return kind in _FORMATTERS or bool(_FORMAT_COMMAND.search(getattr(call, "command", "") or ""))
