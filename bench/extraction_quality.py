"""Quality of failure extraction on CI logs with the failure's explanation marked by hand."""

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import add_data_argument, data_path, read_jsonl_gz, require, use_data_dir  # noqa: E402
from triage.engine.extraction import MAX_LINES, clean_lines, extract_snippet  # noqa: E402

ERROR_WORDS = ("error", "fail", "exception", "fatal", "cannot", "could not", "not found", "panic")


def _kept_share(log: str, ranges: list[list[int]], snippet_lines: list[str]) -> float:
    """Share of the non-blank hand-marked error lines whose cleaned content appears among the snippet's lines."""
    raw = log.splitlines()
    exact = {line.strip() for line in snippet_lines}
    # A line longer than the snippet allows is kept cut with an ellipsis: its beginning counts as kept.
    prefixes = [line.strip()[:-1] for line in snippet_lines if line.endswith("…")]
    truth = []
    for first, last in ranges:
        for k in range(first - 1, min(last, len(raw))):
            content = " ".join(clean_lines(raw[k])).strip()
            if content:
                truth.append(content)
    if not truth:
        return 1.0
    kept = sum(1 for t in truth if t in exact or any(p and t.startswith(p) for p in prefixes))
    return kept / len(truth)


def _last_lines(log: str) -> list[str]:
    return [line for line in clean_lines(log) if line.strip()][-50:]


def _keyword_lines(log: str) -> list[str]:
    return [line for line in clean_lines(log) if any(w in line.lower() for w in ERROR_WORDS)]


def extraction_report() -> None:
    path = data_path("cidiff-extraction.jsonl.gz")
    if not require(path):
        return
    rows = list(read_jsonl_gz(path))
    methods = {
        "fleetui extract_snippet": lambda log: extract_snippet(log).split("\n"),
        "baseline: last 50 lines": _last_lines,
        "baseline: error-keyword lines": _keyword_lines,
    }
    print(f"\nExtraction on {path.name}: {len(rows)} CI logs with hand-marked error lines")
    print("(kept = share of non-blank true error lines whose cleaned text is a snippet line)")
    header = f"{'method':32s} {'kept median':>12s} {'kept mean':>10s} {'lines median':>13s} {'lines mean':>11s} {'lines max':>10s}"
    print(header)
    print("-" * len(header))
    for name, method in methods.items():
        shares, sizes = [], []
        for row in rows:
            lines = method(row["log"])
            shares.append(_kept_share(row["log"], row["error_lines"], lines))
            sizes.append(len(lines))
        print(
            f"{name:32s} {statistics.median(shares):12.1%} {statistics.mean(shares):10.1%} "
            f"{statistics.median(sizes):13.0f} {statistics.mean(sizes):11.1f} {max(sizes):10d}"
        )
    print(f"goal: kept median >= 90% with at most {MAX_LINES} lines")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_data_argument(parser)
    args = parser.parse_args()
    use_data_dir(args.data)
    extraction_report()


if __name__ == "__main__":
    main()
