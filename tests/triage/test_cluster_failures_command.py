"""The offline cluster_failures command reads JSON Lines, skips bad lines and never touches the database."""

import io
import json

import pytest
from django.core.management import call_command

MAVEN = "[ERROR] /w/{r}/src/main/java/a/A.java:[{n},3] cannot find symbol\n[ERROR]   symbol:   class LegacyMoney\n"


def _run(tmp_path, payload: bytes, *extra) -> tuple[list[dict], str]:
    src = tmp_path / "in.jsonl"
    src.write_bytes(payload)
    out = tmp_path / "out.jsonl"
    err = io.StringIO()
    call_command("cluster_failures", "--input", str(src), "--output", str(out), *extra, stderr=err)
    return [json.loads(line) for line in out.read_text().splitlines()], err.getvalue()


def _lines(*records) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in records)


def test_it_writes_one_line_per_failure_with_cluster_snippet_and_signature(tmp_path):
    payload = _lines(
        {"id": "a", "text": MAVEN.format(r="billing", n=12), "verifier": "maven"},
        {"id": "b", "text": MAVEN.format(r="ledger", n=400)},
        {"id": "c", "text": "--- FAIL: TestX (0.01s)\n    x_test.go:9: got 1, want 2\n", "verifier": "go"},
    )
    rows, _ = _run(tmp_path, payload)
    by_id = {r["id"]: r for r in rows}
    assert set(by_id) == {"a", "b", "c"}
    assert by_id["a"]["cluster"] == by_id["b"]["cluster"] != by_id["c"]["cluster"]
    assert "cannot find symbol" in by_id["a"]["snippet"]
    assert len(by_id["a"]["signature"]) == 40
    assert {"cluster_title", "why", "score"} <= set(by_id["a"])


def test_it_reports_bad_lines_with_their_number_and_skips_them(tmp_path):
    payload = b"not json\n" + _lines({"id": "x"}, {"id": "y", "text": 5}) + _lines({"id": "ok", "text": "error: boom"})
    rows, err = _run(tmp_path, payload)
    assert [r["id"] for r in rows] == ["ok"]
    assert "line 1" in err and "line 2" in err and "line 3" in err


def test_it_decodes_non_utf8_input_with_replacement(tmp_path):
    payload = b'{"id": "bin", "text": "error: caf\xe9 \xff broke"}\n'
    rows, _ = _run(tmp_path, payload)
    assert rows[0]["id"] == "bin" and "error: caf" in rows[0]["snippet"]


def test_it_is_deterministic(tmp_path):
    payload = _lines(*({"id": str(i), "text": MAVEN.format(r=f"r{i % 3}", n=i)} for i in range(20)))
    first, _ = _run(tmp_path, payload, "--threshold", "0.7")
    second, _ = _run(tmp_path, payload, "--threshold", "0.7")
    assert first == second


def test_it_needs_no_database(tmp_path):
    # No django_db mark: pytest-django makes any database access raise here.
    rows, _ = _run(tmp_path, _lines({"id": "a", "text": "npm ERR! code ERESOLVE"}))
    assert len(rows) == 1


def test_it_rejects_a_threshold_outside_zero_to_one(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        _run(tmp_path, _lines({"id": "a", "text": "x"}), "--threshold", "1.5")
