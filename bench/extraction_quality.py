"""Quality of failure extraction on CI logs with the failure's explanation marked by hand.

Two data sets, each printed with fleetui beside two baselines from the same run:
LogChunks (failed Travis CI logs in many languages, the explaining chunk marked) and
CiDiff (failed GitHub Actions logs, the error lines marked). Recall is the share of the
marked lines (non-blank, ANSI codes, CI timestamps and surrounding blanks ignored) that
appear among the snippet's lines.
"""

import argparse
import re
import statistics
import sys
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import add_data_argument, data_path, read_jsonl_gz, require, use_data_dir  # noqa: E402
from triage.engine.extraction import MAX_LINES, extract_snippet  # noqa: E402

ERROR_WORDS = ("error", "fail", "exception", "fatal", "cannot", "could not", "not found", "panic")
BASELINE_LINES = 50

# The truth is cleaned here, independently of the extractor, so that changing the extractor's
# cleaning can never change what counts as the explanation.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?")
_CI_TIME = re.compile(r"^(?:[^\t]{0,200}\t[^\t]{0,200}\t)?\ufeff?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z? ?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]+")

Method = Callable[[str], list[str]]


def _plain(line: str) -> str:
    return _CONTROL.sub("", _CI_TIME.sub("", _ANSI.sub("", line))).strip()


def _plain_lines(text: str) -> list[str]:
    return [_plain(line) for line in text.splitlines()]


def recall(truth: list[str], snippet_lines: list[str], *, cut_ends: bool = False) -> float:
    """Share of the non-blank truth lines found among the snippet's lines (a clipped line counts by its start).

    With cut_ends, the truth was marked by characters rather than lines: its first and last line may be
    part of a log line, and count as kept when a snippet line contains them.
    """
    truth = [t for t in truth if t]
    if not truth:
        return 1.0
    exact = {_plain(line) for line in snippet_lines}
    prefixes = [p[:-1] for p in exact if p.endswith("…") and len(p) > 20]

    def kept(k: int, t: str) -> bool:
        if t in exact or any(t.startswith(p) for p in prefixes):
            return True
        return cut_ends and k in (0, len(truth) - 1) and any(t in line for line in exact)

    return sum(1 for k, t in enumerate(truth) if kept(k, t)) / len(truth)


def _last_lines(log: str) -> list[str]:
    return [line for line in _plain_lines(log) if line][-BASELINE_LINES:]


def _keyword_lines(log: str) -> list[str]:
    return [line for line in _plain_lines(log) if any(w in line.lower() for w in ERROR_WORDS)]


METHODS: dict[str, Method] = {
    "fleetui extract_snippet": lambda log: extract_snippet(log).split("\n"),
    f"baseline: last {BASELINE_LINES} lines": _last_lines,
    "baseline: error-keyword lines": _keyword_lines,
}


def _half(repo: str) -> str:
    """A fixed split of the repositories into halves A and B (B was left unread while tuning)."""
    return "AB"[zlib.crc32(repo.encode()) % 2]


def _evaluate(cases: list[dict], method: Method) -> tuple[list[float], list[int], float]:
    shares, sizes = [], []
    t0 = time.perf_counter()
    for case in cases:
        lines = [line for line in method(case["log"]) if line.strip()]
        shares.append(recall(case["truth"], lines, cut_ends=case.get("cut_ends", False)))
        sizes.append(len(lines))
    return shares, sizes, time.perf_counter() - t0


def _table(title: str, cases: list[dict]) -> dict[str, list[float]]:
    print(f"\n{title}")
    print("(recall = share of the marked non-blank lines found in the snippet; whole = logs with all of them kept)")
    header = (
        f"{'method':32s} {'recall med':>10s} {'recall mean':>11s} {'whole':>7s} "
        f"{'lines med':>9s} {'lines mean':>10s} {'lines max':>9s} {'time':>7s}"
    )
    print(header)
    print("-" * len(header))
    per_method = {}
    for name, method in METHODS.items():
        shares, sizes, seconds = _evaluate(cases, method)
        whole = sum(1 for s in shares if s >= 1.0) / len(shares)
        print(
            f"{name:32s} {statistics.median(shares):10.1%} {statistics.mean(shares):11.1%} {whole:7.1%} "
            f"{statistics.median(sizes):9.0f} {statistics.mean(sizes):10.1f} {max(sizes):9d} {seconds:6.2f}s"
        )
        per_method[name] = shares
    return per_method


def _grouped(label: str, cases: list[dict], per_method: dict[str, list[float]], key: Callable[[dict], str]) -> None:
    ours, last = per_method["fleetui extract_snippet"], per_method[f"baseline: last {BASELINE_LINES} lines"]
    groups: dict[str, list[int]] = defaultdict(list)
    for k, case in enumerate(cases):
        groups[key(case)].append(k)
    print(f"\nmedian recall per {label}: fleetui / last {BASELINE_LINES} lines (logs)")
    cells = []
    for name in sorted(groups, key=lambda g: (statistics.median(ours[k] for k in groups[g]), g)):
        ks = groups[name]
        cells.append(
            f"{name[:14]:14s} {statistics.median(ours[k] for k in ks):5.0%} / "
            f"{statistics.median(last[k] for k in ks):5.0%} ({len(ks):3d})"
        )
    for start in range(0, len(cells), 3):
        print("   ".join(cells[start : start + 3]))


def _halves(cases: list[dict], per_method: dict[str, list[float]]) -> None:
    """Recall on each half of the repositories: half B was never read while the extractor was tuned."""
    print("\nleave-repositories-out check (half B of the repositories was left unread while tuning):")
    for half in "AB":
        ks = [k for k, case in enumerate(cases) if _half(case["repo"]) == half]
        cells = [
            f"{name.split(':')[-1].strip()[:24]} {statistics.median(per_method[name][k] for k in ks):4.0%}"
            f" / {statistics.mean(per_method[name][k] for k in ks):4.0%}"
            for name in METHODS
        ]
        repos = len({cases[k]["repo"] for k in ks})
        print(f"half {half} ({len(ks)} logs, {repos} repositories), median / mean: " + ";  ".join(cells))


def logchunks_report() -> None:
    path = data_path("logchunks-dev.jsonl.gz")
    if not require(path):
        return
    cases = [
        {
            "log": row["log"],
            "truth": [line for line in _plain_lines(row["chunk"]) if line],
            # The chunk was marked by characters: it may begin or end inside a log line.
            "cut_ends": True,
            "repo": row["repo"],
            # Ids read tool/samples/<language>/<owner@repo>/failed/<job>.log
            "language": (row["id"].split("/") + ["?"] * 3)[2],
        }
        for row in read_jsonl_gz(path)
    ]
    repos = len({c["repo"] for c in cases})
    per_method = _table(
        f"Extraction on {path.name}: {len(cases)} failed Travis CI logs of {repos} repositories, chunk marked", cases
    )
    _grouped("language", cases, per_method, lambda c: c["language"])
    _halves(cases, per_method)
    print(f"goal: recall median >= 90% with a median snippet <= {MAX_LINES} lines, mean above the last-lines baseline")


def cidiff_report() -> None:
    path = data_path("cidiff-extraction.jsonl.gz")
    if not require(path):
        return
    cases = []
    for row in read_jsonl_gz(path):
        raw = _plain_lines(row["log"])
        truth = [raw[k] for first, last in row["error_lines"] for k in range(first - 1, min(last, len(raw)))]
        cases.append({"log": row["log"], "truth": truth})
    _table(f"Extraction on {path.name}: {len(cases)} failed GitHub Actions logs, error lines marked", cases)
    print("goal: recall median does not fall below 94.6%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_argument(parser)
    args = parser.parse_args()
    use_data_dir(args.data)
    logchunks_report()
    cidiff_report()


if __name__ == "__main__":
    main()
