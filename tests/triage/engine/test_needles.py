"""A pattern's required literal text is in every string it matches, so lines without it are not searched."""

import re

from triage.engine.causes import _NAMED, _NEEDLES
from triage.engine.needles import required_text


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
