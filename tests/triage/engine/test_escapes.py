"""A log that arrived as a cut-off JSON answer is read as the lines it escapes."""

import json

from triage.engine.causes import cause_of
from triage.engine.escapes import unescape_json_lines
from triage.engine.extraction import extract_snippet

GRADLE = "\n".join(
    ["Starting a Gradle Daemon (subsequent builds will be faster)", "> Configure project :billing"]
    + [f"Download https://repo.maven.apache.org/maven2/a/b/{n}/b-{n}.pom, took {n} ms" for n in range(60)]
    + [
        "> Task :compileKotlin FAILED",
        "",
        "FAILURE: Build failed with an exception.",
        "",
        "* What went wrong:",
        "Execution failed for task ':compileKotlin'.",
        "> Could not resolve all files for configuration ':runtimeClasspath'.",
        "   > Could not find org.apache.commons:commons-lang3:4.0.0.",
        "     Required by:",
        "         project :billing",
        "",
        "BUILD FAILED in 1m 5s",
    ]
)


def _cut_off_json_answer() -> str:
    whole = json.dumps({"verifier": "gradle", "passed": False, "output": GRADLE + "\n7 actionable tasks: 4 executed"})
    return whole[: whole.index("7 actionable") + 12]  # the answer stops mid-string: no longer JSON


def test_a_cut_off_json_answer_is_read_as_its_lines_and_its_cause_found():
    text = _cut_off_json_answer()
    assert "\n" not in text
    snippet = extract_snippet(text, "gradle")
    assert "   > Could not find org.apache.commons:commons-lang3:4.0.0." in snippet.splitlines()
    cause = cause_of(snippet, repo="acme/billing")
    assert cause.title == "Could not find org.apache.commons:commons-lang3:4.0.0."
    assert '"verifier"' not in cause.title


def test_escaped_quotes_tabs_and_unicode_are_decoded_too():
    line = '{"output": "a \\"quoted\\" word\\n\\tindented\\n\\u00e9t\\u00e9\\nend'
    assert unescape_json_lines(line) == '{"output": "a "quoted" word\n\tindented\nété\nend'


def test_a_log_line_quoting_a_string_with_breaks_is_left_as_it_is():
    log = "collected 3 items\nE   AssertionError: 'a\\nb\\nc\\nd' != 'a\\nb'\nFAILED tests/test_x.py::test_y\n"
    assert unescape_json_lines(log) == log
    assert unescape_json_lines("no escapes here\n") == "no escapes here\n"
