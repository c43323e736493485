"""Find the CI step that failed in a job log, from the step markers of the common CI systems (pure)."""

import re
from dataclasses import dataclass

# Every marker line starts with one of these; the regexes run only on lines that do.
_MARKER_STARTS = (
    "travis_",
    "$ ",
    "The command ",
    "Done. Your build",
    "##[",
    "section_",
    "[Pipeline]",
    "ERROR: ",
    "Finished: ",
    "--- ",
    "+++ ",
    "~~~ ",
    "^^^ ",
    "🚨",
    "Error: The command",
    "Cleaning up ",
)

# Lines that only structure a CI log: never an explanation, never kept in a snippet.
_BOILERPLATE_RE = re.compile(
    r"^(?:travis_(?:fold|time):(?:start|end):\S*"
    r"|##\[(?:group|endgroup|section|command)\]"
    r"|section_(?:start|end):\d+:\S+"
    r"|\[Pipeline\] "
    r"|\^\^\^ \+\+\+\s*$"
    r"|Done\. Your build exited with \d+\.?"
    r"|Cleaning up (?:project directory|file based variables)"
    r"|Finished: (?:SUCCESS|FAILURE|UNSTABLE|ABORTED))"
)

# A new step begins, by CI system: Travis `$ cmd` (bracketed by timers), GitHub Actions `##[group]Run`,
# GitLab sections, Jenkins pipeline steps, Buildkite `--- `, `+++ ` and `~~~ ` group headers (not go's
# `--- FAIL:` nor a diff's `--- a/`).
_STARTS = {
    "travis": re.compile(r"^(?:\$ \S|travis_time:start:(\w+))"),
    "gha": re.compile(r"^##\[group\]Run "),
    "gitlab": re.compile(r"^section_start:\d+:\S+"),
    "jenkins": re.compile(r"^\[Pipeline\] (?:sh|bat|powershell|pwsh|script|stage|withEnv|\{ \()"),
    "buildkite": re.compile(r"^(?:---|\+\+\+|~~~) (?!(?:FAIL|PASS|SKIP|RUN):|[ab]/|/dev/null|\S+\t)\S"),
}

# The step that just ran failed, with its exit code, by CI system.
_STEP_FAILED = {
    "travis": re.compile(r'^The command ".*" (?:failed and )?exited with (\d+)|^The command "'),
    "gha": re.compile(r"^##\[error\]Process completed with exit code (\d+)"),
    "jenkins": re.compile(r"^ERROR: script returned exit code (\d+)"),
    "buildkite": re.compile(r"^(?:🚨 )?Error: The command exited with status (-?\d+)"),
}
# The whole job failed, without saying which step: the last real step before it is the one.
_JOB_FAILED = {
    "gitlab": re.compile(r"^ERROR: Job failed\b"),
    "jenkins": re.compile(r"^Finished: FAILURE"),
    "travis": re.compile(r"^Done\. Your build exited with [1-9]"),
}

# Steps that run after the failure whatever happened; they never explain it.
_AFTER_STEP_RE = re.compile(r"(?i)after_script|after_failure|cleanup|upload_artifacts|archive|cache|post")
_TRAVIS_END_RE = re.compile(r"^travis_time:end:(\w+)")
_TRAVIS_EXIT_RE = re.compile(r'" (?:failed and )?exited with (\d+)')
MAX_COMMAND_LINES = 20
_SKIPPED_RE = re.compile(r"(?i)\bskipped\b|^\s*[{}]\s*$")
# A step has output of its own when one of its first lines is not a marker.
MAX_OUTPUT_PROBE = 50


@dataclass(frozen=True)
class FailedStep:
    """Where the failing step's output lies: lines[start:end], and the marker line that said it failed."""

    start: int
    end: int
    marker: int | None
    exit_code: int | None


def is_boilerplate(line: str) -> bool:
    """A line that only structures a CI log (fold, timer, group and section markers)."""
    return line.startswith(_MARKER_STARTS) and _BOILERPLATE_RE.match(line) is not None


_MARKER_LINE_RE = re.compile("^(?:" + "|".join(re.escape(s) for s in _MARKER_STARTS) + ")", re.M)


def marker_lines(lines: list[str]) -> list[int]:
    """Where the lines that start like a CI marker are; only those can be boilerplate or mark a step."""
    joined = "\n".join(lines)
    found: list[int] = []
    line = pos = 0
    for m in _MARKER_LINE_RE.finditer(joined):
        line += joined.count("\n", pos, m.start())
        pos = m.start()
        found.append(line)
    return found


def failed_step(lines: list[str], markers: list[int] | None = None) -> FailedStep | None:
    """The first step that failed, by its CI system's markers; None when the log has no such markers.

    markers: `marker_lines(lines)`, when already known."""
    starts: dict[str, list[int]] = {name: [] for name in _STARTS}
    travis_timers: dict[str, int] = {}
    previous_end = 0
    job_failed: tuple[int, str] | None = None
    for i in marker_lines(lines) if markers is None else markers:
        line = lines[i]
        for system, pattern in _STARTS.items():
            start = pattern.match(line)
            if start is not None:
                starts[system].append(i)
                if system == "travis" and start.group(1):
                    travis_timers[start.group(1)] = i
                break
        else:
            for system, pattern in _STEP_FAILED.items():
                failed = pattern.match(line)
                if failed is None:
                    continue
                code = failed.group(1) or _command_exit(lines, i)
                if code is None:
                    break
                if int(code) != 0:
                    begin, end = _step_range(lines, starts[system], travis_timers, i, previous_end)
                    return FailedStep(begin, end, i, int(code))
                previous_end = i + 1
                break
            else:
                if job_failed is None:
                    job_failed = next(((i, s) for s, p in _JOB_FAILED.items() if p.match(line)), None)
    if job_failed is None:
        return None
    at, system = job_failed
    # Only the job's end says it failed: the last step before it that is not a clean-up step.
    real = [i for i in starts[system] if i < at and not _AFTER_STEP_RE.search(lines[i])]
    begin = real[-1] + 1 if real else 0
    end = next((i for i in starts[system] if begin <= i < at and _AFTER_STEP_RE.search(lines[i])), at)
    return FailedStep(begin, end, at, None)


def _command_exit(lines: list[str], at: int) -> str | None:
    """Exit code of a Travis command whose quoted text spans several lines."""
    for line in lines[at + 1 : at + 1 + MAX_COMMAND_LINES]:
        end = _TRAVIS_EXIT_RE.search(line[-200:])
        if end is not None:
            return end.group(1)
    return None


def _step_range(
    lines: list[str], starts: list[int], timers: dict[str, int], failed_at: int, floor: int
) -> tuple[int, int]:
    """Where the output of the step that the marker at failed_at reports on lies."""
    # Travis brackets each command with timers of one id: the matching start is exact.
    for j in range(failed_at - 1, max(floor, failed_at - 4) - 1, -1):
        end = _TRAVIS_END_RE.match(lines[j])
        if end is not None:
            if end.group(1) in timers:
                return timers[end.group(1)] + 1, failed_at
            break
    # Otherwise the latest step with output of its own: Jenkins reports the failed `sh` only once the
    # pipeline has unwound, after the headers of the stages it skipped.
    before = [i for i in starts if floor <= i < failed_at]
    if not before:
        return floor, failed_at
    ends = [*before[1:], failed_at]
    for start, end in zip(reversed(before), reversed(ends), strict=True):
        if _has_output(lines, start + 1, end):
            return start + 1, end
    return before[-1] + 1, failed_at


def _has_output(lines: list[str], start: int, end: int) -> bool:
    for line in lines[start : min(end, start + MAX_OUTPUT_PROBE)]:
        if line.strip() and not is_boilerplate(line) and not _SKIPPED_RE.search(line):
            return True
    return False
