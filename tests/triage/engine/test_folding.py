"""Long stack traces are folded to their first and last frames, and every "caused by" line stays."""

from triage.engine.extraction import MAX_LINES, extract_snippet
from triage.engine.folding import fold_traces


def _java_failure(frames: int, cause_frames: int) -> str:
    return "\n".join(
        [
            "[ERROR] com.acme.pay.LedgerTest.posts  Time elapsed: 0.1 s  <<< ERROR!",
            "java.lang.IllegalStateException: ledger closed",
            *(f"\tat com.acme.pay.Layer{i}.call(Layer{i}.java:{i + 10})" for i in range(frames)),
            "Caused by: java.io.IOException: disk full",
            *(f"\tat java.io.FileOutputStream.write{i}(FileOutputStream.java:{i})" for i in range(cause_frames)),
            "\t... 12 more",
        ]
    )


def test_a_trace_too_long_for_the_snippet_keeps_its_first_and_last_frames_and_its_causes():
    snippet = extract_snippet(_java_failure(120, 60), "maven")
    lines = snippet.splitlines()
    assert len(lines) <= MAX_LINES
    assert "java.lang.IllegalStateException: ledger closed" in snippet
    assert "Caused by: java.io.IOException: disk full" in snippet
    assert "Layer0.call(Layer0.java:10)" in snippet and "Layer119.call" in snippet
    assert "write0(" in snippet and "write59(" in snippet
    assert any(line.strip().endswith("frames folded") for line in lines)
    # What the fold hid does not come back as the end of the output.
    assert "Layer60.call" not in snippet and "write30(" not in snippet


def test_a_short_trace_is_kept_whole():
    snippet = extract_snippet(_java_failure(5, 3), "maven")
    assert all(f"Layer{i}.call" in snippet for i in range(5))
    assert "frames folded" not in snippet


def test_python_frames_keep_their_source_lines_when_folded():
    lines = ["Traceback (most recent call last):"]
    for i in range(10):
        lines += [f'  File "/app/m{i}.py", line {i + 1}, in f{i}', f"    f{i + 1}()"]
    lines.append("RecursionError: maximum recursion depth exceeded")
    folded, origin = fold_traces(lines, keep_first=2, keep_last=1)
    assert folded[:5] == lines[:5]
    assert folded[5].strip() == "… 7 frames folded"
    assert folded[-3:] == lines[-3:]
    assert origin[5] == 5 and len(folded) == len(origin)
