"""Cut the lines that explain a failure out of raw verifier output (pure, no Django)."""

import re
from dataclasses import dataclass
from functools import lru_cache

from triage.engine.digits import digit_blind, digit_keyed
from triage.engine.escapes import unescape_json_lines
from triage.engine.logdiff import baseline_keys, shared_lines
from triage.engine.rules import (
    COMMON_NOISE,
    GENERIC,
    KEYWORDS,
    SPECIAL_STARTS,
    SYSTEM_BY_NAME,
    SYSTEMS,
    Anchor,
    BuildSystem,
)
from triage.engine.selection import FILLER, MAX_BYTES, MAX_LINES, Focus, select_lines
from triage.engine.steps import failed_step, is_boilerplate, marker_lines

__all__ = ["MAX_BYTES", "MAX_LINES", "clean_lines", "extract_snippet", "extract_snippet_bytes", "split_note"]

# Failures are reported at the end of a log; scanning only the tail keeps a 200 MB line cheap.
MAX_SCAN_CHARS = 2_000_000
SNIFF_CHARS = 300_000
MAX_SNIFF_LINES = 5_000
# Long lines are cut before matching so no pattern can go quadratic on them.
MAX_MATCH_CHARS = 2_000
JUDGE_SENTENCES = 3
# A snippet's closing note starts like this; the rest of the line says what was left out and why.
NOTE_PREFIX = "[fleetui] "
BASELINE_NOTE = NOTE_PREFIX + "{n} line{s} also in the passing baseline log left out"
JUDGE_CHARS = 600

ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]+")
# GitHub Actions prefixes each line with an ISO timestamp; `gh run view --log` adds job and step first.
CI_PREFIX_RE = re.compile(
    r"^(?:[^\t\n]{0,200}\t[^\t\n]{0,200}\t)?\ufeff?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z? ?", re.M
)
# Starts with a literal, so the engine looks for it first: a fast scan.
_STAMP_RE = re.compile(r"T\d\d:\d\d:\d\d")
# The control characters CONTROL_RE removes, but the replacement character: all are single bytes in UTF-8.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
CI_PREFIX_WINDOW = 20_000
GROUP_RE = re.compile(r"^##\[(?:group|endgroup)\]")
SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'`(])")
WHITESPACE_RE = re.compile(r"\s+")


def _clean(text: str) -> list[str]:
    """Lines without ANSI codes, CI timestamps or control bytes; CI step markers are kept."""
    if len(text) > MAX_SCAN_CHARS:
        text = text[-MAX_SCAN_CHARS:]
    # A log that arrived as an escaped JSON string (a tool's JSON answer cut off) is read as its lines.
    text = unescape_json_lines(text)
    if "\x1b" in text:
        text = ANSI_RE.sub("", text)
    if _has_ci_prefix(text):
        text = CI_PREFIX_RE.sub("", text)
    if _has_control(text):
        text = CONTROL_RE.sub("", text)
    return _single_spaced([line.rstrip() for line in text.splitlines()])


def _has_control(text: str) -> bool:
    """The text holds a character CONTROL_RE removes (deleting bytes from the UTF-8 is many times faster)."""
    if "\ufffd" in text:
        return True
    data = text.encode("utf-8", "surrogatepass")
    return len(data.translate(None, _CONTROL_BYTES)) != len(data)


def _has_ci_prefix(text: str) -> bool:
    """A CI timestamp starts a line within the first or the last 20,000 characters."""
    # Every prefix holds a date and a time: most logs have none, and the full pattern need not run.
    windows = (text,) if len(text) <= CI_PREFIX_WINDOW else (text[:CI_PREFIX_WINDOW], text[-CI_PREFIX_WINDOW:])
    return any(_STAMP_RE.search(w) is not None and CI_PREFIX_RE.search(w) is not None for w in windows)


def _single_spaced(lines: list[str]) -> list[str]:
    """The lines without the blank line a double-spaced log (`\\r\\r\\n` endings, some exporters) puts after each."""
    blank = lines.count("")
    if blank * 3 < len(lines) or len(lines) < 8:
        return lines
    followed = sum(1 for a, b in zip(lines, lines[1:], strict=False) if a and not b)
    if followed * 5 < (len(lines) - blank) * 3:
        return lines
    # Keep one blank where the log had two or more: those still separate paragraphs.
    return [line for k, line in enumerate(lines) if line or (k > 0 and not lines[k - 1])]


def clean_lines(text: str) -> list[str]:
    """Split a log into lines without ANSI codes, CI timestamps, group markers or control bytes."""
    return [line for line in _clean(text) if not (line.startswith("##[") and GROUP_RE.match(line))]


def detect_systems(lines: list[str], verifier: str | None = None) -> list[BuildSystem]:
    """Return the build systems whose output appears in the lines, the hinted one first."""
    found: list[BuildSystem] = []
    hinted = SYSTEM_BY_NAME.get((verifier or "").strip().lower())
    if hinted is not None:
        found.append(hinted)
    tail = "\n".join(lines)[-SNIFF_CHARS:]
    probe = "\n" + tail
    counts = []
    for system in SYSTEMS:
        if system is hinted:
            continue
        if system.hints and not any(h in probe for h in system.hints):
            continue
        n = len(system.sniff.findall(tail))
        if n:
            counts.append((-n, system.name, system))
    found.extend(system for _, _, system in sorted(counts, key=lambda c: (c[0], c[1])))
    return found


@dataclass(frozen=True, eq=False)
class _Rules:
    specific: list[Anchor]
    generic: list[Anchor]
    noise: list[re.Pattern[str]]
    filler: list[re.Pattern[str]]


def _rules_for(systems: list[BuildSystem]) -> _Rules:
    return _rules_named(tuple(s.name for s in systems))


# Lines repeat across a fleet's logs: a line's class under one set of rules is cached.
CLASSIFY_CACHE_SIZE = 200_000


@lru_cache(maxsize=256)
def _rules_named(names: tuple[str, ...]) -> _Rules:
    systems = [SYSTEM_BY_NAME[name] for name in names]
    specific = sorted((a for system in systems for a in system.anchors), key=lambda a: -a.weight)
    # Generic keywords are a weaker signal once a build system's own rules apply.
    penalty = 1 if systems else 0
    generic = sorted(
        (Anchor(a.pattern, max(1, a.weight - penalty), a.follow) for a in GENERIC.anchors), key=lambda a: -a.weight
    )
    noise = [s.noise for s in systems if s.noise is not None]
    filler = [s.filler for s in systems if s.filler is not None]
    return _Rules(specific, generic, noise, filler)


_KEYWORD, _SPECIAL, _LONGER_LOWER = 1, 2, 4


def _line_kind(line: str) -> int:
    """Whether a keyword occurs in the line, whether it starts like a continuation, whether lower-casing
    changes its length (rare Unicode)."""
    low = line.lower()
    kind = _KEYWORD if any(k in low for k in KEYWORDS) else 0
    if line.startswith(SPECIAL_STARTS):
        kind |= _SPECIAL
    if len(low) != len(line):
        kind |= _LONGER_LOWER
    return kind


# Keywords and starts hold no digits: lines that differ only in their digits are of one kind.
_line_kind_cached = digit_keyed(CLASSIFY_CACHE_SIZE)(_line_kind)


def _candidate_lines(lines: list[str]) -> list[int]:
    """Indices of lines worth matching: a keyword occurs in them or they start like a continuation."""
    kinds = [_line_kind_cached(line) for line in lines]
    if any(kind & _LONGER_LOWER for kind in kinds):
        # Lower-casing changed some lengths: only the keyword test.
        return [i for i, kind in enumerate(kinds) if kind & _KEYWORD]
    return [i for i, kind in enumerate(kinds) if kind & (_KEYWORD | _SPECIAL)]


def _all_patterns() -> list[re.Pattern[str]]:
    systems = [*SYSTEMS, GENERIC]
    found = [COMMON_NOISE, *(a.pattern for s in systems for a in s.anchors)]
    return found + [p for s in systems for p in (s.noise, s.filler) if p is not None]


# A line's class under one set of rules is cached, and is the same for lines that differ only in their
# digits 1-9, but for those a rule names (npm's 404).
_KEEP = "4"
_CLASSIFY_BLIND = digit_blind(_all_patterns(), keep=_KEEP)
_classify_key = (lambda size: digit_keyed(size, _KEEP)) if _CLASSIFY_BLIND else (lambda size: lru_cache(maxsize=size))


@_classify_key(CLASSIFY_CACHE_SIZE)
def _classify_cached(line: str, rules: _Rules) -> tuple[float, int]:
    return _classify(line, rules)


def _classify(line: str, rules: _Rules) -> tuple[float, int]:
    """Score and follow count of one line; -1 is noise, 0 neutral, FILLER boilerplate."""
    line = line[:MAX_MATCH_CHARS]
    if not line.strip():
        return 0, 0
    if COMMON_NOISE.search(line) or any(p.search(line) for p in rules.noise):
        return -1, 0
    if any(p.search(line) for p in rules.filler):
        return FILLER, 0
    # Anchors are sorted strongest first, so the first match is the best one.
    for anchor in rules.specific:
        if anchor.pattern.search(line):
            return anchor.weight, anchor.follow
    if GENERIC.noise and GENERIC.noise.search(line):
        return 0, 0
    for anchor in rules.generic:
        if anchor.pattern.search(line):
            return anchor.weight, anchor.follow
    return 0, 0


def score_lines(lines: list[str], systems: list[BuildSystem], candidates: list[int] | None = None) -> dict[int, float]:
    """Score the lines that name a failure, passing some weight on to the lines that follow them."""
    rules = _rules_for(systems)
    if candidates is None:
        candidates = _candidate_lines(lines)
    scores: dict[int, float] = {}
    follows: list[tuple[int, float, int]] = []
    for i in candidates:
        score, follow = _classify_cached(lines[i], rules)
        if score:
            scores[i] = score
        if follow:
            follows.append((i, score, follow))
    for i, weight, follow in follows:
        for j in range(i + 1, min(len(lines), i + 1 + follow)):
            if not lines[j].strip():
                break
            current = scores.get(j)
            if current is None:
                current, _ = _classify_cached(lines[j], rules)
            if current < 0:
                break
            scores[j] = max(current, weight - 1)
    return scores


def extract_judge(text: str) -> str:
    """Keep the first sentences of an LLM judge's rationale, whitespace collapsed."""
    flat = WHITESPACE_RE.sub(" ", CONTROL_RE.sub(" ", ANSI_RE.sub("", text[:20_000]))).strip()
    sentences = SENTENCE_END_RE.split(flat)
    kept = " ".join(sentences[:JUDGE_SENTENCES])
    if len(kept) > JUDGE_CHARS:
        kept = kept[: JUDGE_CHARS - 1].rstrip() + "…"
    return kept


def extract_snippet(text: str | bytes, verifier: str | None = None, *, baseline: str | bytes | None = None) -> str:
    """Return the part of a verifier's output that explains the failure: at most 40 lines and 4 KB.

    With the output of a passing run of the same verifier on the same repository as baseline, the lines
    both share are left out, and a last line says so.
    """
    if isinstance(text, bytes | bytearray):
        return extract_snippet_bytes(bytes(text), verifier, baseline=baseline)
    if not text:
        return ""
    if (verifier or "").strip().lower() == "judge":
        return extract_judge(text)
    lines = _clean(text)
    if not any(line.strip() for line in lines):
        return ""
    # Most logs hold no CI step marker at all: then no line needs the step tests.
    markers = marker_lines(lines)
    step = failed_step(lines, markers) if markers else None
    focus = Focus(step.start, step.end, step.marker) if step is not None else Focus(0, len(lines))
    candidates = [i for i in _candidate_lines(lines) if focus.start <= i < focus.end]
    # Sniffing only the candidate lines is enough: every sniff pattern names an error or a failure.
    systems = detect_systems([lines[i] for i in candidates[-MAX_SNIFF_LINES:]], verifier)
    rules = _rules_for(systems)
    scores = score_lines(lines, systems, candidates)
    for i in markers:
        if focus.start <= i < focus.end and is_boilerplate(lines[i]):
            scores[i] = -1
    shared: set[int] = set()
    if baseline:
        base = baseline.decode("utf-8", "replace") if isinstance(baseline, bytes | bytearray) else baseline
        shared = shared_lines(lines, baseline_keys(clean_lines(base)), range(focus.start, focus.end))
    diffed = scores | dict.fromkeys(shared, -1)
    kept = select_lines(lines, diffed, focus, lambda i: _line_score(lines, i, diffed, rules))
    if shared and kept:
        kept = _with_note(kept, BASELINE_NOTE.format(n=len(shared), s="" if len(shared) == 1 else "s"))
    elif shared:
        # Everything was in the passing log too (a flaky or environmental failure): show it anyway.
        kept = select_lines(lines, scores, focus, lambda i: _line_score(lines, i, scores, rules))
    snippet = "\n".join(kept)
    # The byte budget is already respected line by line; this guards multi-byte edge cases.
    encoded = snippet.encode("utf-8")
    if len(encoded) > MAX_BYTES:
        snippet = encoded[:MAX_BYTES].decode("utf-8", "ignore")
    return snippet


def _line_score(lines: list[str], i: int, scores: dict[int, float], rules: _Rules) -> float:
    """A line's score; a line that was no candidate can only be noise, boilerplate or plain."""
    score = scores.get(i)
    if score is None:
        score = _plain_class(lines[i], rules)
    return score


@_classify_key(CLASSIFY_CACHE_SIZE)
def _plain_class(line: str, rules: _Rules) -> float:
    line = line[:MAX_MATCH_CHARS]
    if COMMON_NOISE.search(line) or any(p.search(line) for p in rules.noise):
        return -1
    if any(p.search(line) for p in rules.filler):
        return FILLER
    return 0


def _with_note(kept: list[str], note: str) -> list[str]:
    """The snippet's lines with a last line saying why some were left out, within the line budget."""
    return [*kept[: MAX_LINES - 1], note]


def split_note(snippet: str) -> tuple[str, str]:
    """A snippet's lines and its closing note (empty when it has none)."""
    head, _, last = snippet.rpartition("\n")
    if last.startswith(NOTE_PREFIX):
        return head, last
    if not head and snippet.startswith(NOTE_PREFIX):
        return "", snippet
    return snippet, ""


def extract_snippet_bytes(data: bytes, verifier: str | None = None, *, baseline: str | bytes | None = None) -> str:
    """Decode raw output (invalid UTF-8 replaced) and extract its snippet."""
    if len(data) > MAX_SCAN_CHARS * 2:
        data = data[-MAX_SCAN_CHARS * 2 :]
    return extract_snippet(data.decode("utf-8", "replace"), verifier, baseline=baseline)
