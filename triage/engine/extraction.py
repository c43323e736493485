"""Cut the lines that explain a failure out of raw verifier output (pure, no Django)."""

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

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

MAX_LINES = 40
MAX_BYTES = 4096
# Failures are reported at the end of a log; scanning only the tail keeps a 200 MB line cheap.
MAX_SCAN_CHARS = 2_000_000
SNIFF_CHARS = 300_000
MAX_SNIFF_LINES = 5_000
# Long lines are cut before matching so no pattern can go quadratic on them.
MAX_MATCH_CHARS = 2_000
MAX_LINE_CHARS = 320
FALLBACK_LINES = 20
# Blocks are joined across at most this many lines of boilerplate and blanks.
MAX_BRIDGE = 12
# Blocks at least this strong are taken latest first: the end of a log holds the failure that stopped it.
STRONG = 4
# Score of boilerplate lines: kept inside a block, never a reason to keep one.
FILLER = 0.5
JUDGE_SENTENCES = 3
JUDGE_CHARS = 600

ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]+")
# GitHub Actions prefixes each line with an ISO timestamp; `gh run view --log` adds job and step first.
CI_PREFIX_RE = re.compile(
    r"^(?:[^\t\n]{0,200}\t[^\t\n]{0,200}\t)?\ufeff?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z? ?", re.M
)
GROUP_RE = re.compile(r"^##\[(?:group|endgroup)\]")
SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'`(])")
WHITESPACE_RE = re.compile(r"\s+")


def clean_lines(text: str) -> list[str]:
    """Split a log into lines without ANSI codes, CI timestamps, group markers or control bytes."""
    if len(text) > MAX_SCAN_CHARS:
        text = text[-MAX_SCAN_CHARS:]
    if "\x1b" in text:
        text = ANSI_RE.sub("", text)
    if CI_PREFIX_RE.search(text[:20_000]) or CI_PREFIX_RE.search(text[-20_000:]):
        text = CI_PREFIX_RE.sub("", text)
    text = CONTROL_RE.sub("", text)
    lines = []
    for line in text.splitlines():
        if line.startswith("##["):
            if GROUP_RE.match(line):
                continue
        lines.append(line.rstrip())
    return lines


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


def _candidate_lines(lines: list[str]) -> list[int]:
    """Indices of lines worth matching: a keyword occurs in them or they start like a continuation."""
    starts = [0] * (len(lines) + 1)
    pos = 0
    for i, line in enumerate(lines):
        starts[i] = pos
        pos += len(line) + 1
    starts[len(lines)] = pos
    low = "\n".join(lines).lower()
    if len(low) != pos - 1 and lines:
        # Lower-casing changed some lengths (rare Unicode); fall back to a per-line test.
        return [i for i, line in enumerate(lines) if any(k in line.lower() for k in KEYWORDS)]
    hits = {i for i, line in enumerate(lines) if line.startswith(SPECIAL_STARTS)}
    for keyword in KEYWORDS:
        at = low.find(keyword)
        while at != -1:
            i = bisect_right(starts, at) - 1
            hits.add(i)
            at = low.find(keyword, starts[i + 1])
    return sorted(hits)


@lru_cache(maxsize=CLASSIFY_CACHE_SIZE)
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


def _regions(lines: list[str], scores: dict[int, float]) -> list[list[int]]:
    """Group scored lines into blocks: neighbours separated only by boilerplate, blanks or one plain line."""
    regions: list[list[int]] = []
    current: list[int] = []
    for i in sorted(scores):
        if scores[i] < 0:
            if current:
                regions.append(current)
            current = []
            continue
        if current:
            gap = range(current[-1] + 1, i)
            plain = sum(1 for j in gap if lines[j].strip())
            if len(gap) > MAX_BRIDGE or plain > 1:
                regions.append(current)
                current = []
            else:
                current.extend(j for j in gap if lines[j].strip())
        current.append(i)
    if current:
        regions.append(current)
    return [r for r in regions if any(scores.get(i, 0) > FILLER for i in r)]


def select_lines(lines: list[str], scores: dict[int, float]) -> list[str]:
    """Keep whole failure blocks, strongest and latest first, within the line and byte budget, in log order."""
    regions = _regions(lines, scores)
    regions.sort(key=lambda r: (-min(STRONG, max(scores.get(i, 0) for i in r)), -r[-1]))
    if not regions:
        tail = [i for i in range(len(lines)) if lines[i].strip() and scores.get(i, 0) >= 0]
        regions = [tail[-FALLBACK_LINES:]]
    chosen: dict[int, str] = {}
    seen: set[str] = set()
    budget = _Budget()
    for region in regions:
        fresh = [(i, _clip(lines[i])) for i in region]
        fresh = [(i, line) for i, line in fresh if line.strip() not in seen]
        if budget.fits(fresh):
            picked = fresh
        else:
            # Too big to keep whole: its strongest, latest lines first.
            picked = []
            for i, line in sorted(fresh, key=lambda p: (-scores.get(p[0], 0), -p[0])):
                if line.strip() not in seen and budget.fits([*picked, (i, line)]):
                    picked.append((i, line))
                    seen.add(line.strip())
        for i, line in picked:
            seen.add(line.strip())
            chosen[i] = line
        budget.take(picked)
        if budget.full():
            break
    return [chosen[i] for i in sorted(chosen)]


def _clip(line: str) -> str:
    line = line.rstrip()
    if len(line) > MAX_LINE_CHARS:
        return line[: MAX_LINE_CHARS - 1] + "…"
    return line


class _Budget:
    """Lines and bytes still available in a snippet."""

    def __init__(self) -> None:
        self.lines = 0
        self.size = 0

    @staticmethod
    def _cost(picked: list[tuple[int, str]]) -> int:
        return sum(len(line.encode("utf-8", "replace")) + 1 for _, line in picked)

    def fits(self, picked: list[tuple[int, str]]) -> bool:
        return self.lines + len(picked) <= MAX_LINES and self.size + self._cost(picked) <= MAX_BYTES

    def take(self, picked: list[tuple[int, str]]) -> None:
        self.lines += len(picked)
        self.size += self._cost(picked)

    def full(self) -> bool:
        return self.lines >= MAX_LINES or self.size >= MAX_BYTES - 40


def extract_judge(text: str) -> str:
    """Keep the first sentences of an LLM judge's rationale, whitespace collapsed."""
    flat = WHITESPACE_RE.sub(" ", CONTROL_RE.sub(" ", ANSI_RE.sub("", text[:20_000]))).strip()
    sentences = SENTENCE_END_RE.split(flat)
    kept = " ".join(sentences[:JUDGE_SENTENCES])
    if len(kept) > JUDGE_CHARS:
        kept = kept[: JUDGE_CHARS - 1].rstrip() + "…"
    return kept


def extract_snippet(text: str | bytes, verifier: str | None = None) -> str:
    """Return the part of a verifier's output that explains the failure: at most 40 lines and 4 KB."""
    if isinstance(text, bytes | bytearray):
        return extract_snippet_bytes(bytes(text), verifier)
    if not text:
        return ""
    if (verifier or "").strip().lower() == "judge":
        return extract_judge(text)
    lines = clean_lines(text)
    if not lines:
        return ""
    candidates = _candidate_lines(lines)
    # Sniffing only the candidate lines is enough: every sniff pattern names an error or a failure.
    systems = detect_systems([lines[i] for i in candidates[-MAX_SNIFF_LINES:]], verifier)
    scores = score_lines(lines, systems, candidates)
    snippet = "\n".join(select_lines(lines, scores))
    # The byte budget is already respected line by line; this guards multi-byte edge cases.
    encoded = snippet.encode("utf-8")
    if len(encoded) > MAX_BYTES:
        snippet = encoded[:MAX_BYTES].decode("utf-8", "ignore")
    return snippet


def extract_snippet_bytes(data: bytes, verifier: str | None = None) -> str:
    """Decode raw output (invalid UTF-8 replaced) and extract its snippet."""
    if len(data) > MAX_SCAN_CHARS * 2:
        data = data[-MAX_SCAN_CHARS * 2 :]
    return extract_snippet(data.decode("utf-8", "replace"), verifier)
