"""Lines a failed log shares with a passing log of the same repository and verifier (pure, no Django).

A line that also appears in a passing run cannot be why this run failed: warnings, banners, the
tool's version, tests that passed. Lines are compared after masking what changes from run to run
(numbers, hashes, timestamps, durations), but a zero stays a zero, so `Failures: 0` in the passing
log never hides `Failures: 3` in the failed one.
"""

import re

# Hex ids and hashes first, then any run of digits (a zero alone is kept apart from other numbers).
_HEX_RE = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b")
_NUMBER_RE = re.compile(r"\d+")
_SPACE_RE = re.compile(r"\s+")
# A passing log is read up to this many lines: enough for any verifier, bounded for a huge one.
MAX_BASELINE_LINES = 200_000
MAX_KEY_CHARS = 400


def _number(match: re.Match[str]) -> str:
    return "0" if match.group() == "0" else "#"


def line_key(line: str) -> str:
    """A line with what varies between runs masked, for comparison across logs."""
    line = line[:MAX_KEY_CHARS].strip()
    if not line:
        return ""
    line = _HEX_RE.sub("<h>", line)
    line = _NUMBER_RE.sub(_number, line)
    return _SPACE_RE.sub(" ", line)


def baseline_keys(lines: list[str]) -> frozenset[str]:
    """The masked lines of a passing log."""
    keys = {line_key(line) for line in lines[-MAX_BASELINE_LINES:]}
    keys.discard("")
    return frozenset(keys)


def shared_lines(lines: list[str], keys: frozenset[str], indices: range | list[int]) -> set[int]:
    """Which of the given lines of a failed log also appear, masked, in the passing log."""
    if not keys:
        return set()
    return {i for i in indices if lines[i].strip() and line_key(lines[i]) in keys}
