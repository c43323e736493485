"""Reading a tool span's outputs: text, exit code and error flag, without trusting a line in the middle of a log."""

import pytest

from runs.imports.outputs import exit_code_in_text, tool_output


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Exit code 1\n[ERROR] boom", 1),
        ("Error: Exit code 127\nmvn: command not found", 127),
        ("[INFO] BUILD FAILURE\n(exit code 1)", 1),
        ("[INFO] BUILD FAILURE (exit code 2)\n", 2),
        ("lint done\nProcess completed with exit code 3.", 3),
        ("go: exit status 1", None),
        ("FAIL\nexit status 1", 1),
        ("[INFO] BUILD SUCCESS\n(exit code 0)", 0),
        ("a child failed (exit code 1)\n[INFO] BUILD SUCCESS", None),
        ("Tests: test_exit_code_1 passed", None),
    ],
)
def test_an_exit_code_is_read_only_where_a_harness_writes_it(text, code):
    assert exit_code_in_text(text) == code


def test_a_structured_exit_code_wins_over_one_in_the_text():
    found = tool_output({"stdout": "Exit code 1\nretrying", "exit_code": 0})

    assert (found.exit_code, found.text) == (0, "Exit code 1\nretrying")


def test_the_error_flag_comes_from_the_outputs_or_else_the_span_attributes():
    assert tool_output({"result": "x", "isError": False}, {"is_error": True}).is_error is False
    assert tool_output({"result": "x"}, {"is_error": True}).is_error is True
    assert tool_output({"result": "x"}).is_error is None


def test_a_string_that_only_looks_like_a_list_of_blocks_is_kept_as_it_is():
    text = "[{'type': 'text', 'text': 'unterminated'"
    assert tool_output({"result": text}).text == text
    assert tool_output({"result": "[{'a': 1}]"}).text == "[{'a': 1}]"


def test_a_huge_output_is_read_as_text_without_parsing():
    text = "[{" + "x" * 6_000_000 + "}]"

    found = tool_output({"result": text})

    assert found.text is text
