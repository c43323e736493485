"""The edit recogniser on span inputs as real agents log them, hostile ones included, and the cause ranking."""

from types import SimpleNamespace

from triage.clusters.fixes.edits import (
    BINARY_NOTE,
    MAX_DIFF_LINES,
    MAX_EDITS_PER_TRACE,
    MAX_TEXT,
    Edit,
    cause_terms,
    edit_diff,
    edits_for_cause,
    span_edits,
    trace_edits,
)

REQUIREMENTS = "/home/runner/_work/jobs/jobs/requirements.txt"


def test_a_claude_code_edit_is_read_from_its_file_path_and_strings():
    inputs = {
        "file_path": REQUIREMENTS,
        "old_string": "pytest==8.3.3\n",
        "new_string": "pytest==8.3.3\nstructlog==24.1.0\n",
    }

    assert span_edits("tool_Edit", inputs) == [
        Edit(REQUIREMENTS, "pytest==8.3.3\n", "pytest==8.3.3\nstructlog==24.1.0\n")
    ]


def test_a_multi_edit_gives_one_edit_per_replacement_of_its_file():
    inputs = {
        "file_path": "/w/pom.xml",
        "edits": [
            {"old_string": "<version>2.9.2</version>", "new_string": "<version>2.17.2</version>"},
            {"old_string": "a", "new_string": "b", "replace_all": True},
            {"note": "no strings here"},
        ],
    }

    edits = span_edits("tool_MultiEdit", inputs)

    assert [(e.file, e.before, e.after) for e in edits] == [
        ("/w/pom.xml", "<version>2.9.2</version>", "<version>2.17.2</version>"),
        ("/w/pom.xml", "a", "b"),
    ]


def test_a_write_is_an_edit_from_nothing_to_the_content():
    assert span_edits("tool_Write", {"file_path": "/w/go.mod", "content": "module x\n"}) == [
        Edit("/w/go.mod", "", "module x\n")
    ]


def test_str_replace_editors_are_recognised_by_their_inputs_whatever_the_span_name():
    replace = {"command": "str_replace", "path": "src/app.ts", "old_str": "any", "new_str": "Event"}
    create = {"command": "create", "path": "src/new.ts", "file_text": "export {};\n"}
    insert = {"command": "insert", "path": "src/app.ts", "insert_line": 3, "new_str": "import x from 'x';"}
    view = {"command": "view", "path": "src/app.ts"}

    assert span_edits("str_replace_based_edit_tool", replace) == [Edit("src/app.ts", "any", "Event")]
    assert span_edits("str_replace_editor", create) == [Edit("src/new.ts", "", "export {};\n")]
    assert span_edits("str_replace_editor", insert) == [Edit("src/app.ts", "", "import x from 'x';")]
    assert span_edits("str_replace_editor", view) == []
    assert span_edits("edit_file", {"path": "a.py", "old_text": "x = 1", "new_text": "x = 2"}) == [
        Edit("a.py", "x = 1", "x = 2")
    ]


def test_an_apply_patch_is_split_into_one_edit_per_file():
    patch = (
        "*** Begin Patch\n*** Update File: requirements.txt\n@@\n pytest==8.3.3\n+structlog==24.1.0\n"
        "*** Update File: app/log.py\n@@\n-import logging\n+import structlog\n*** End Patch\n"
    )

    edits = span_edits("apply_patch", {"input": patch})

    assert edits == [
        Edit("requirements.txt", "pytest==8.3.3", "pytest==8.3.3\nstructlog==24.1.0"),
        Edit("app/log.py", "import logging", "import structlog"),
    ]
    diff = "--- a/pom.xml\n+++ b/pom.xml\n@@ -1,2 +1,2 @@\n-<v>1</v>\n+<v>2</v>\n"
    assert span_edits("shell", {"command": ["apply_patch", diff]}) == [Edit("pom.xml", "<v>1</v>", "<v>2</v>")]


def test_reads_and_commands_and_missing_fields_are_not_edits():
    assert span_edits("tool_Read", {"file_path": "/w/pom.xml"}) == []
    assert span_edits("tool_Bash", {"command": "mvn -B verify"}) == []
    assert span_edits("tool_Edit", {"file_path": "/w/pom.xml", "old_string": "x"}) == []
    assert span_edits("tool_Edit", {"old_string": "x", "new_string": "y"}) == []
    assert span_edits("tool_Edit", {"file_path": 7, "old_string": "x", "new_string": "y"}) == []
    assert span_edits("tool_Edit", None) == []
    assert span_edits("tool_Edit", "not json at all") == []
    assert span_edits("search", {"path": "src", "text": "needle"}) == []


def test_inputs_logged_as_a_json_string_are_read():
    assert span_edits("tool_Edit", '{"file_path": "a", "old_string": "1", "new_string": "2"}') == [Edit("a", "1", "2")]


def test_huge_strings_are_capped_and_binary_or_broken_text_is_replaced():
    huge = "x" * 2_000_000
    edit = span_edits("tool_Edit", {"file_path": "p" * 5_000, "old_string": huge, "new_string": "ok"})[0]
    binary = span_edits("tool_Write", {"file_path": "logo.png", "content": "\x89PNG\x00\x00\x1a"})[0]
    raw = span_edits("tool_Write", {"file_path": "b.bin", "content": b"\x00\xff\xfe"})[0]
    broken = span_edits("tool_Edit", {"file_path": "a\ud800.py", "old_string": "caf\udce9", "new_string": "\x07bell"})[
        0
    ]

    assert len(edit.before) <= MAX_TEXT and "characters omitted" in edit.before and len(edit.file) == 500
    assert binary.after == BINARY_NOTE.format(size=7)
    assert raw.after == BINARY_NOTE.format(size=3)
    assert (broken.file, broken.before, broken.after) == ("a\ufffd.py", "caf\ufffd", "\ufffdbell")


def test_a_trace_gives_its_tool_spans_edits_in_order_and_at_most_the_cap():
    def span(name, inputs, span_type="TOOL", attributes=None):
        return SimpleNamespace(name=name, inputs=inputs, span_type=span_type, attributes=attributes or {})

    spans = [
        span("agent", {"prompt": "migrate"}, "AGENT"),
        span("tool_Edit", {"file_path": "a", "old_string": "1", "new_string": "2"}),
        span("chat", {"file_path": "b", "old_string": "1", "new_string": "2"}, "CHAT_MODEL"),
        span("call", {"file_path": "c", "content": "x"}, attributes={"tool_name": "Write"}),
    ]
    many = [span("tool_Edit", {"file_path": f"f{i}", "old_string": "1", "new_string": "2"}) for i in range(80)]

    assert [e.file for e in trace_edits(spans)] == ["a", "c"]
    assert len(trace_edits(many)) == MAX_EDITS_PER_TRACE


def test_edits_naming_the_cause_come_first_and_others_are_the_fallback():
    terms = cause_terms(
        tokens=["pythonjsonlogger"],
        lines=["E   ModuleNotFoundError: No module named 'pythonjsonlogger' in tests/unit/test_checkout.py"],
    )
    readme = Edit("README.md", "old", "new")
    requirements = Edit(
        "requirements.txt", "pytest==8.3.3", "pytest==8.3.3\npython-json-logger==2.0.7\npythonjsonlogger"
    )
    test_file = Edit("tests/unit/test_checkout.py", "import logging", "import logging as log")

    shown, touches = edits_for_cause([readme, requirements, test_file], terms)
    fallback, matched = edits_for_cause([readme, Edit("docs/a.md", "", "b")], terms, limit=1)

    assert touches and shown == [test_file, requirements]
    assert not matched and fallback == [readme]


def test_maven_coordinates_on_the_deciding_line_name_the_build_file_edit():
    line = "Dependency convergence error for com.fasterxml.jackson.core:jackson-databind:jar:2.9.2 paths are:"
    pom = Edit("/w/pom.xml", "  <dependencies>", "<artifactId>jackson-databind</artifactId>")

    shown, touches = edits_for_cause([Edit("/w/README.md", "a", "b"), pom], cause_terms(lines=[line]))

    assert touches and shown == [pom]


def test_the_diff_is_unified_capped_and_keeps_long_lines_short():
    edit = Edit("a.txt", "\n".join(f"old {i}" for i in range(60)), "\n".join(f"new {i}" for i in range(60)) + "y" * 900)

    diff = edit_diff(edit)

    assert diff[0][0] == "hunk" and ("del", "-old 0") in diff
    assert len(diff) == MAX_DIFF_LINES + 1 and diff[-1][0] == "more"
    assert all(len(line) <= 301 for _, line in diff)
    assert edit_diff(Edit("a", "same", "same")) == []
