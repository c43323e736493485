"""Choose which scored lines of a failing step make the snippet, within its line and byte budget (pure)."""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from triage.engine.folding import fold_traces, is_frame, trace_runs

MAX_LINES = 40
MAX_BYTES = 4096
MAX_LINE_CHARS = 1000
# Blocks are joined across at most this many lines of boilerplate and blanks.
MAX_BRIDGE = 12
# Blocks at least this strong are taken latest first: the end of a log holds the failure that stopped it.
STRONG = 4
# A block this strong comes from a build tool's own failure format: the end of the step adds little.
TOOL_STRENGTH = 6
# Score of boilerplate lines: kept inside a block, never a reason to keep one.
FILLER = 0.5
# A block goes on over the lines that continue its last line: indented, frames, code frames, diffs.
MAX_CONTINUATION = 24
# ... and after a strong line, this many plain lines of its paragraph.
PARAGRAPH_LINES = 4
# When no tool rule names the failure, the last lines of the failing step explain it most often.
TAIL_LINES = 24
TAIL_LINES_AFTER_STRONG = 12
# A trace too long for the budget keeps its last frame and as many of its first ones as fit.
FOLD_KEEP_FIRST = (16, 10, 6, 4, 2, 1)
# How far back from the end of the step the tail is looked for.
MAX_TAIL_WALK = 2_000
# The first lines of that tail come before weak blocks, the rest after them.
TAIL_FIRST = 10

_CONTINUATION_RE = re.compile(r"^(?:\s+\S|[|^~+>-]|\d+ \||E\s|Caused by|\.\.\. )")


@dataclass(frozen=True)
class Focus:
    """The part of the log that holds the failure: lines[start:end], and the line that said it failed."""

    start: int
    end: int
    marker: int | None = None


def _regions(lines: list[str], scores: dict[int, float], focus: Focus) -> list[list[int]]:
    """Group scored lines into blocks: neighbours separated only by boilerplate, blanks or one plain line."""
    regions: list[list[int]] = []
    current: list[int] = []
    for i in sorted(k for k in scores if focus.start <= k < focus.end):
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
    return [_continued(r, lines, scores, focus) for r in regions if any(scores.get(i, 0) > FILLER for i in r)]


def _continued(region: list[int], lines: list[str], scores: dict[int, float], focus: Focus) -> list[int]:
    """The region and the lines that go on from its last line (indented detail, frames, code frames).

    After a strong line, the rest of its paragraph goes too: a compiler's source excerpt and caret,
    an assertion's expected and actual values.
    """
    out = list(region)
    j = region[-1] + 1
    limit = min(focus.end, j + MAX_CONTINUATION)
    paragraph = min(limit, j + PARAGRAPH_LINES) if scores.get(region[-1], 0) >= STRONG else j
    while j < limit:
        line = lines[j]
        if not line.strip() or scores.get(j, 0) < 0:
            break
        if j >= paragraph and not _CONTINUATION_RE.match(line):
            break
        out.append(j)
        j += 1
    return out


def _first_time(key: str, seen: set[str]) -> bool:
    """True the first time a line is met; a line repeated within a block is kept once."""
    if key in seen:
        return False
    seen.add(key)
    return True


def line_key(line: str) -> str:
    """What makes two lines of a block the same line: their text without surrounding blanks."""
    return line.strip()


def _clip(line: str) -> str:
    line = line.rstrip()
    if len(line) > MAX_LINE_CHARS:
        return line[: MAX_LINE_CHARS - 1] + "…"
    return line


def _size(line: str) -> int:
    return (len(line) if line.isascii() else len(line.encode("utf-8", "replace"))) + 1


class _Budget:
    """Lines and bytes still available in a snippet."""

    def __init__(self, lines: int = MAX_LINES) -> None:
        self.max_lines = lines
        self.lines = 0
        self.size = 0

    def fits(self, picked: list[tuple[int, str]]) -> bool:
        if self.lines + len(picked) > self.max_lines:
            return False
        return self.size + sum(_size(line) for _, line in picked) <= MAX_BYTES

    def take(self, picked: list[tuple[int, str]]) -> None:
        self.lines += len(picked)
        self.size += sum(_size(line) for _, line in picked)

    def take_line(self, line: str) -> bool:
        """Take one more line if it fits."""
        size = _size(line)
        if self.lines >= self.max_lines or self.size + size > MAX_BYTES:
            return False
        self.lines += 1
        self.size += size
        return True

    def full(self) -> bool:
        return self.lines >= self.max_lines or self.size >= MAX_BYTES - 40


def _folded(pairs: list[tuple[int, str]], budget: "_Budget") -> list[tuple[int, str]]:
    """The block with its long stack traces folded, keeping as many first frames as the budget allows.

    A fold marker takes the place of the first frame it hides.
    """
    text = [line for _, line in pairs]
    runs = trace_runs(text)
    folded = pairs
    for keep_first in FOLD_KEEP_FIRST:
        lines, origin = fold_traces(text, keep_first=keep_first, runs=runs)
        folded = [(pairs[k][0], line) for k, line in zip(origin, lines, strict=True)]
        if budget.fits(folded):
            break
    return folded


def select_lines(
    lines: list[str],
    scores: dict[int, float],
    focus: Focus | None = None,
    line_score: Callable[[int], float] | None = None,
) -> list[str]:
    """Keep whole failure blocks, strongest and latest first, then the end of the failing step, in log order."""
    focus = focus or Focus(0, len(lines))
    regions = _regions(lines, scores, focus)
    strength = {id(r): max(scores.get(i, 0) for i in r) for r in regions}
    # Strong blocks (a tool's own failure lines, exceptions) latest first; then the end of the failing
    # step; then weak blocks (a keyword somewhere) latest first, with what is left.
    strong = sorted((r for r in regions if strength[id(r)] >= STRONG), key=lambda r: -r[-1])
    weak = sorted((r for r in regions if strength[id(r)] < STRONG), key=lambda r: -r[-1])
    chosen: dict[int, str] = {}
    seen: set[str] = set()
    covered: set[int] = set()
    budget = _Budget()
    for region in strong:
        if budget.full():
            break
        _add_region(region, lines, scores, chosen, seen, budget, covered)
    strongest = max(strength.values(), default=0)
    wanted = TAIL_LINES_AFTER_STRONG if strongest >= TOOL_STRENGTH else TAIL_LINES
    _add_marker(lines, focus, chosen, budget)
    tail = _tail_lines(lines, line_score or (lambda i: scores.get(i, 0)), focus, chosen, covered)
    first = _add_tail(lines, tail, chosen, seen, budget, covered, min(wanted, TAIL_FIRST))
    for region in weak:
        if budget.full():
            break
        _add_region(region, lines, scores, chosen, seen, budget, covered)
    _add_tail(lines, tail, chosen, seen, budget, covered, wanted - first)
    return [chosen[i] for i in sorted(chosen)]


def _add_region(
    region: list[int],
    lines: list[str],
    scores: dict[int, float],
    chosen: dict[int, str],
    seen: set[str],
    budget: _Budget,
    covered: set[int],
) -> None:
    """Add a block whole if it fits, else folded, else its strongest and latest lines."""
    fresh: list[tuple[int, str]] = [(i, _clip(lines[i])) for i in region]
    block_seen = set(seen)
    fresh = [(i, line) for i, line in fresh if i not in chosen and _first_time(line_key(line), block_seen)]
    if not budget.fits(fresh):
        fresh = _folded(fresh, budget)
    if budget.fits(fresh):
        picked = fresh
        budget.take(picked)
    else:
        picked = []
        for i, line in sorted(fresh, key=lambda p: (-scores.get(p[0], 0), is_frame(p[1]), -p[0])):
            if line_key(line) not in seen and budget.take_line(line):
                picked.append((i, line))
                seen.add(line_key(line))
    for i, line in picked:
        seen.add(line_key(line))
        chosen[i] = line
    # Lines a fold hid stay hidden: the end of the step must not bring them back.
    covered.update(range(region[0], region[-1] + 1))


def _add_marker(lines: list[str], focus: Focus, chosen: dict[int, str], budget: _Budget) -> None:
    """Add the line that said the step failed: it names the command and its exit code."""
    if focus.marker is None or focus.marker in chosen:
        return
    marker = _clip(lines[focus.marker])
    if marker.strip() and budget.take_line(marker):
        chosen[focus.marker] = marker


def _tail_lines(
    lines: list[str], line_score: Callable[[int], float], focus: Focus, chosen: dict[int, str], covered: set[int]
) -> Iterator[int]:
    """The plain lines of the failing step, last first; boilerplate (FILLER) and noise never stand alone."""
    for j in range(focus.end - 1, max(focus.start, focus.end - MAX_TAIL_WALK) - 1, -1):
        if lines[j].strip() and j not in chosen and j not in covered and line_score(j) not in (-1, FILLER):
            yield j


def _add_tail(
    lines: list[str],
    tail: Iterator[int],
    chosen: dict[int, str],
    seen: set[str],
    budget: _Budget,
    covered: set[int],
    wanted: int,
) -> int:
    """Add up to `wanted` more of the last plain lines of the failing step; how many were added."""
    taken = 0
    while taken < wanted:
        j = next(tail, None)
        if j is None:
            break
        if j in chosen or j in covered:
            continue
        clipped = _clip(lines[j])
        key = line_key(clipped)
        if key in seen:
            continue
        if not budget.take_line(clipped):
            break
        chosen[j] = clipped
        seen.add(key)
        taken += 1
    return taken
