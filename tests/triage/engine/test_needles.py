"""A pattern's required literal text is in every string it matches, so texts without it are not searched."""

import random
import re

from runs.fleet import layers
from triage.engine.causes import _NAMED, _NEEDLES
from triage.engine.needles import AnyOf, required_text


def test_the_required_text_is_the_longest_literal_run_every_match_holds():
    assert required_text(re.compile(r"No module named '?([\w.]+)'?")) == "No module named "
    assert required_text(re.compile(r"(?:Dependency convergence|Require upper) error for ([\w.-]+)")) == " error for "
    assert required_text(re.compile(r"a(?:bc)d+")) == "abc"
    assert required_text(re.compile(r"(?i)No module named")) == ""
    assert required_text(re.compile(r"[Uu]nresolved (?i:reference)")) == "nresolved "


def test_every_cause_shape_matches_only_lines_holding_its_required_text():
    lines = [
        "ModuleNotFoundError: No module named 'pythonjsonlogger'",
        "[ERROR] Failed to execute goal on project x: Could not resolve dependencies for project a:b:jar:1: "
        "Could not find artifact com.acme:lib:jar:1.2 in central",
        "error[E0308]: mismatched types",
        "src/a.ts(3,4): error TS2345: Argument of type 'x' is not assignable",
        "npm ERR! 404 Not Found - GET https://registry.npmjs.org/left-pad - Not found",
        "    symbol:   class Foo",
        "--- FAIL: TestX (0.00s) got 3, want 2",
    ]
    for line in lines:
        for (pattern, _, _), needle in zip(_NAMED, _NEEDLES, strict=True):
            if pattern.search(line):
                assert needle in line


# -- AnyOf: a pattern's alternatives, each searched only where its literal text is ---------------------------------

PIECES = [
    "ETIMEDOUT",
    "econnreset",
    "connect timed out",
    "Read TimedOut",
    "i/o timeout",
    "TLS handshake timeout",
    "connection refused",
    "503 Service Unavailable",
    "status code: 502",
    "HTTP error 500",
    "got 504",
    "Bad Gateway",
    "OOMKilled",
    "Killed",
    "signal: killed",
    "exit code 137",
    "exit status: 1",
    "cannot allocate memory",
    "No space left on device",
    "ENOSPC",
    "timed out waiting for a runner",
    "no available runners",
    "queued timeout",
    "insufficient capacity",
    "0 tests",
    "Tests run: 0",
    "no tests ran",
    "collected 0 items",
    "no test files",
    "NO_TESTS",
    ":test NO-SOURCE",
    "Tests run: 12",
    "collected 3 items",
    "5 tests passed",
    "running 2 tests",
    "ok  example.com/pkg  0.12s",
    "Tests:  4 passed",
    "10,0 tests",
    "1.5 passed",
    "build",
    "ERROR",
    "[INFO]",
    "BUILD FAILURE",
    "Downloading",
    "\n",
    "\n",
    " ",
    " ",
    "  ",
    "x",
    "5",
    "0",
    "137",
    "ſtatus 503",
]


def texts(seed: int, count: int):
    rng = random.Random(seed)
    for _ in range(count):
        parts = [rng.choice(PIECES) for _ in range(rng.randint(1, 12))]
        parts = [p.upper() if rng.random() < 0.15 else p.lower() if rng.random() < 0.15 else p for p in parts]
        yield rng.choice(("", " ", "\n")).join(parts)


def test_any_of_answers_what_the_whole_pattern_answers_on_thousands_of_texts():
    for pattern in (layers._INFRASTRUCTURE, layers._NO_TESTS, layers._SOME_TESTS):
        any_of = AnyOf(pattern)
        for text in texts(seed=len(pattern.pattern), count=4000):
            assert any_of.search(text) == bool(pattern.search(text)), (pattern.pattern[:40], text)


def test_any_of_cuts_only_at_top_level_bars_and_keeps_classes_groups_and_escapes_whole():
    pattern = re.compile(r"a[|\]]b|(c|d)e|f\|g|[]|]h|[^]|]i")
    any_of = AnyOf(pattern)

    assert [branch.pattern for _, branch in any_of._branches] == [r"a[|\]]b", "(c|d)e", r"f\|g", "[]|]h", "[^]|]i"]
    for text in ("a|b", "a]b", "ce", "de", "f|g", "|h", "]h", "zi", "abc", "fg", "e", "|i"):
        assert any_of.search(text) == bool(pattern.search(text)), text


def test_an_alternative_with_no_literal_text_is_always_searched():
    any_of = AnyOf(re.compile(r"\d{3}|[a-z]+ing", re.IGNORECASE))

    assert [needles for needles, _ in any_of._branches] == [None, frozenset({"ing"})]
    assert any_of.search("code 404") and any_of.search("RUNNING") and not any_of.search("12 run")


def test_a_case_blind_pattern_finds_its_text_in_any_case_and_a_case_sensitive_one_only_in_its_own():
    assert AnyOf(re.compile(r"\bno tests (ran|run)\b", re.IGNORECASE)).search("NO TESTS RAN")
    assert not AnyOf(re.compile(r"\bno tests (ran|run)\b")).search("NO TESTS RAN")
    assert AnyOf(re.compile(r"\bno tests (ran|run)\b")).search("no tests run")
