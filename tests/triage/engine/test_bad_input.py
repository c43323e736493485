"""Extraction and clustering give a sensible answer on empty, huge, binary and repetitive input."""

import random

from triage.engine.clustering import cluster_failures, prepare_failure
from triage.engine.extraction import MAX_BYTES, extract_snippet, extract_snippet_bytes


def test_empty_output_gives_an_empty_snippet_that_still_clusters():
    assert extract_snippet("") == ""
    assert extract_snippet("\n\n   \n") == ""
    clusters = cluster_failures([prepare_failure("e", "")])
    assert len(clusters) == 1 and clusters[0].members[0].id == "e"


def test_a_single_200_megabyte_line_is_cut_to_at_most_four_kilobytes():
    huge = "x" * (200 * 1024 * 1024 - 40) + " error: disk quota exceeded"
    snippet = extract_snippet(huge)
    del huge
    assert 0 < len(snippet.encode()) <= MAX_BYTES
    assert "\n" not in snippet


def test_binary_garbage_gives_a_bounded_printable_snippet():
    data = random.Random(7).randbytes(300_000)
    snippet = extract_snippet_bytes(data)
    assert len(snippet.encode()) <= MAX_BYTES
    assert not any(ord(c) < 32 and c not in "\t\n" for c in snippet)


def test_non_utf8_bytes_are_replaced_and_the_error_is_still_found():
    data = "[ERROR] Failed to execute goal: café".encode("latin-1") + b"\n\xc3\x28 [ERROR] bad \xa0 byte\n"
    snippet = extract_snippet_bytes(data, "maven")
    assert "Failed to execute goal" in snippet
    assert "\ufffd" not in snippet
    assert extract_snippet(data, "maven") == snippet


def test_one_hundred_thousand_identical_failures_make_one_cluster():
    text = "src/api/client.ts(33,7): error TS2345: Argument of type 'string' is not assignable to 'number'."
    first = prepare_failure("0", text)
    items = [first] + [type(first)(str(i), first.snippet, first.normalized, first.signature) for i in range(1, 100_000)]
    clusters = cluster_failures(items)
    assert len(clusters) == 1
    assert len(clusters[0].members) == 100_000
    assert {m.why for m in clusters[0].members} == {"exact"}


def test_one_failure_alone_is_its_own_cluster():
    clusters = cluster_failures([prepare_failure("solo", "panic: runtime error: index out of range [3] with length 3")])
    assert [(m.id, m.why) for m in clusters[0].members] == [("solo", "alone")]
    assert "index out of range" in clusters[0].title
