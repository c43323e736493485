"""Fold long stack traces to their first and last frames, keeping every "caused by" line (pure)."""

import re

# One frame of a stack trace in the common runtimes: Java, Kotlin, Scala, JavaScript and C# (`at ...`),
# Python (`File "...", line N`), Ruby (`from x.rb:N:in`), PHP (`#N /path`), gdb and sanitizers
# (`#N 0x... in`), Rust backtraces (`N: symbol`), Go goroutine dumps (`\t/path/x.go:N`).
FRAME_RE = re.compile(
    r"^\s*(?:at \S"
    r'|File "[^"]*", line \d+'
    r"|from \S+:\d+:in "
    r"|#\d+ (?:0x[0-9a-fA-F]+ in |/|\{main\}|\[internal)"
    r"|\d+: (?:0x[0-9a-f]+ - )?[\w<][\w:<>$.{}]*(?:::|$)"
    r"|/\S+\.go:\d+(?: \+0x[0-9a-f]+)?$"
    r"|\S+\.rb:\d+:in `)"
)
# The line after a frame that belongs to it: Python's source line, Rust's and Go's location line.
_FRAME_DETAIL_RE = re.compile(r"^\s+(?:at \S+:\d+|/\S+\.go:\d+)|^\s{4,}\S")
# Go prints the function on its own line before its location.
_GO_FUNC_RE = re.compile(r"^[\w./*()-]+\(.*\)$")
_OMITTED_RE = re.compile(r"^\s*\.\.\. \d+ (?:more|common frames omitted)\s*$")

# A trace is folded once it has more frames than this; the first and last frames are kept.
FOLD_MIN_FRAMES = 6
KEEP_FIRST = 2
KEEP_LAST = 1


def _frames(lines: list[str]) -> list[tuple[int, int]]:
    """Runs of consecutive frames as (first line, end) pairs, each frame with its detail lines."""
    runs: list[tuple[int, int]] = []
    i, n = 0, len(lines)
    while i < n:
        if not FRAME_RE.match(lines[i]):
            i += 1
            continue
        start = i
        while i < n and (FRAME_RE.match(lines[i]) or _GO_FUNC_RE.match(lines[i])):
            i += 1
            while i < n and not FRAME_RE.match(lines[i]) and _FRAME_DETAIL_RE.match(lines[i]):
                i += 1
        runs.append((start, i))
    return runs


def trace_runs(lines: list[str]) -> list[list[int]]:
    """The frames of each stack trace in the lines, as lists of line positions (detail lines left out)."""
    return [
        [k for k in range(start, end) if FRAME_RE.match(lines[k]) or _GO_FUNC_RE.match(lines[k])]
        for start, end in _frames(lines)
    ]


def fold_traces(
    lines: list[str],
    *,
    min_frames: int = FOLD_MIN_FRAMES,
    keep_first: int = KEEP_FIRST,
    keep_last: int = KEEP_LAST,
    runs: list[list[int]] | None = None,
) -> tuple[list[str], list[int]]:
    """Lines with each long run of frames cut to its first and last frames, and where each kept line came from.

    "Caused by" lines are not frames, so each cause keeps its own first and last frames. The returned
    positions index the input; a fold marker takes the position of the first frame it replaces.
    """
    out: list[str] = []
    origin: list[int] = []
    done = 0
    for frames in trace_runs(lines) if runs is None else runs:
        if len(frames) <= max(min_frames, keep_first + keep_last + 1):
            continue
        head_end = frames[keep_first]
        tail_start = frames[-keep_last] if keep_last else frames[-1] + 1
        out.extend(lines[done:head_end])
        origin.extend(range(done, head_end))
        indent = lines[head_end][: len(lines[head_end]) - len(lines[head_end].lstrip())]
        out.append(f"{indent}… {len(frames) - keep_first - keep_last} frames folded")
        origin.append(head_end)
        done = tail_start
    out.extend(lines[done:])
    origin.extend(range(done, len(lines)))
    return out, origin


def is_frame(line: str) -> bool:
    """A line that is one frame of a stack trace, or says how many frames were left out."""
    return FRAME_RE.match(line) is not None or _OMITTED_RE.match(line) is not None
