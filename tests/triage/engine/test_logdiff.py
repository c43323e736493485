"""Lines that a passing run of the same verifier also printed are left out of a failure's snippet."""

from triage.engine.extraction import MAX_LINES, extract_snippet, split_note
from triage.engine.logdiff import line_key
from triage.engine.normalize import normalize_text, signature
from triage.engine.snippets import snippet_and_signature

PASSING = """collecting 12 items
DeprecationWarning: pkg_resources is deprecated as an API; error handling changes in 2025-01-01
WARNING: could not find optional plugin xdist, running serially (took 0.31s)
tests/test_a.py ....
12 passed in 0.31s
"""
FAILING = """collecting 12 items
DeprecationWarning: pkg_resources is deprecated as an API; error handling changes in 2025-01-01
WARNING: could not find optional plugin xdist, running serially (took 0.52s)
tests/test_a.py ...F
E   assert 41 == 42
FAILED tests/test_a.py::test_tax - assert 41 == 42
1 failed, 11 passed in 0.35s
"""


def test_lines_also_in_the_passing_log_are_dropped_and_the_snippet_says_so():
    plain = extract_snippet(FAILING, "pytest")
    diffed = extract_snippet(FAILING, "pytest", baseline=PASSING)
    assert "DeprecationWarning" in plain and "could not find optional plugin" in plain
    assert "DeprecationWarning" not in diffed and "could not find optional plugin" not in diffed
    assert "E   assert 41 == 42" in diffed and "FAILED tests/test_a.py::test_tax" in diffed
    lines, note = split_note(diffed)
    assert note == "[fleetui] 3 lines also in the passing baseline log left out"
    assert "[fleetui]" not in lines
    assert len(diffed.splitlines()) <= MAX_LINES


def test_numbers_are_masked_but_a_zero_count_never_hides_a_failure_count():
    assert line_key("took 0.31s at 10:11:12") == line_key("took 0.52s at 11:12:13")
    assert line_key("Failures: 0, Errors: 0") != line_key("Failures: 2, Errors: 0")
    assert line_key("commit 1a2b3c4d5e") == line_key("commit 9f8e7d6c5b")


def test_a_failure_whose_every_line_was_in_the_passing_log_still_shows_them_without_a_note():
    log = "error: flaky network, retrying\nerror: flaky network, retrying\n"
    assert extract_snippet(log, baseline=log) == extract_snippet(log)


def test_the_note_stays_out_of_the_signature():
    snippet, sign = snippet_and_signature(FAILING, kind="pytest", repo="acme/api", baseline=PASSING)
    lines, note = split_note(snippet)
    assert note
    assert sign == signature(normalize_text(lines, repo="acme/api"))
    assert sign != signature(normalize_text(snippet, repo="acme/api"))
    assert snippet_and_signature(FAILING, kind="pytest", repo="acme/api")[0] == extract_snippet(FAILING, "pytest")
