"""Grouping accuracy on Loghub-2k: fleetui's normalisation and grouping against Drain3, one configuration each."""

import argparse
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import add_data_argument, data_path, read_jsonl_gz, require, use_data_dir  # noqa: E402
from triage.engine.clustering import DEFAULT_THRESHOLD, FailureText, cluster_failures  # noqa: E402
from triage.engine.normalize import normalize_text, signature  # noqa: E402


def grouping_accuracy(truth: list[str], predicted: list) -> float:
    """Share of lines whose predicted group holds exactly the lines of their true group (Zhu et al., ICSE-SEIP 2019)."""
    true_groups: dict[str, set[int]] = defaultdict(set)
    predicted_groups: dict[object, set[int]] = defaultdict(set)
    for i, (t, p) in enumerate(zip(truth, predicted, strict=True)):
        true_groups[t].add(i)
        predicted_groups[p].add(i)
    correct = sum(len(g) for g in predicted_groups.values() if g == true_groups[truth[next(iter(g))]])
    return correct / len(truth) if truth else 1.0


def fleetui_labels(lines: list[str], threshold: float) -> list[str]:
    """Each line as one failure text: normalised, signed and clustered as the product does."""
    items = []
    for i, line in enumerate(lines):
        normalized = normalize_text(line)
        items.append(FailureText(id=str(i), snippet=line, normalized=normalized, signature=signature(normalized)))
    label = {m.id: c.key for c in cluster_failures(items, threshold=threshold) for m in c.members}
    return [label[str(i)] for i in range(len(lines))]


def drain_labels(lines: list[str]) -> list[int]:
    """Drain3's TemplateMiner with its default configuration, a fresh miner per system."""
    import logging

    from drain3 import TemplateMiner

    logging.getLogger("drain3").setLevel(logging.ERROR)
    miner = TemplateMiner()
    # Drain widens a template in place and never merges two, so the id a line gets is its final group.
    return [miner.add_log_message(line)["cluster_id"] for line in lines]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    add_data_argument(parser)
    args = parser.parse_args()
    use_data_dir(args.data)
    path = data_path("loghub2k-dev.jsonl.gz")
    if not require(path):
        return
    by_system: dict[str, list[dict]] = defaultdict(list)
    for row in read_jsonl_gz(path):
        by_system[row["system"]].append(row)
    print(f"\nGrouping accuracy on {path.name}: {sum(map(len, by_system.values()))} lines, {len(by_system)} systems")
    print("(GA = share of lines grouped with exactly the lines of their true template; same configuration everywhere)")
    header = f"{'system':12s} {'lines':>6s} {'templates':>10s} {'fleetui':>8s} {'Drain3':>8s} {'fleetui groups':>15s} {'Drain3 groups':>14s}"
    print(header)
    print("-" * len(header))
    ours_all, drain_all = [], []
    for system in sorted(by_system):
        rows = by_system[system]
        lines = [r["text"] for r in rows]
        truth = [r["label"] for r in rows]
        ours = fleetui_labels(lines, args.threshold)
        drain = drain_labels(lines)
        ga_ours, ga_drain = grouping_accuracy(truth, ours), grouping_accuracy(truth, drain)
        ours_all.append(ga_ours)
        drain_all.append(ga_drain)
        print(
            f"{system:12s} {len(rows):6d} {len(set(truth)):10d} {ga_ours:8.3f} {ga_drain:8.3f} "
            f"{len(set(ours)):15d} {len(set(drain)):14d}"
        )
    print("-" * len(header))
    mean_ours, mean_drain = sum(ours_all) / len(ours_all), sum(drain_all) / len(drain_all)
    print(f"{'mean':12s} {'':6s} {'':10s} {mean_ours:8.3f} {mean_drain:8.3f}")
    print(f"goal: fleetui mean GA above Drain3's ({mean_drain:.3f}) with one configuration for every system")


if __name__ == "__main__":
    main()
