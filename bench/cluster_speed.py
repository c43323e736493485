"""Time and memory to extract and cluster many failures, incremental assignment, and Drain3 for comparison."""

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import add_data_argument, data_path, read_jsonl_gz, synthetic_failures, use_data_dir  # noqa: E402
from triage.engine.clustering import ClusterExemplars, assign_failures, cluster_failures, prepare_failure  # noqa: E402


def _real_lines(limit: int = 20_000) -> list[str]:
    path = data_path("bump-dev.jsonl.gz")
    if not path.exists():
        print(f"note: {path.name} not found; synthetic texts use templates only")
        return []
    lines: list[str] = []
    for row in read_jsonl_gz(path):
        lines.extend(line for line in row["log"].splitlines() if "[ERROR]" in line or "[WARNING]" in line)
        if len(lines) >= limit:
            break
    return lines[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="number of failure texts")
    parser.add_argument("--new", type=int, default=1_000, help="failures assigned incrementally afterwards")
    parser.add_argument("--skip-drain", action="store_true")
    add_data_argument(parser)
    args = parser.parse_args()
    use_data_dir(args.data)

    records = synthetic_failures(args.n + args.new, _real_lines())
    old, new = records[: args.n], records[args.n :]
    print(f"{args.n} failure texts ({sum(len(r['text']) for r in old) / 1e6:.1f} MB), {len(new)} new ones")

    t0 = time.perf_counter()
    items = [prepare_failure(r["id"], r["text"], verifier=r["verifier"], repo=r["repo"]) for r in old]
    t1 = time.perf_counter()
    clusters = cluster_failures(items)
    t2 = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    distinct = len({i.signature for i in items})
    print(f"extract+normalise: {t1 - t0:7.2f} s")
    print(f"cluster:           {t2 - t1:7.2f} s   ({distinct} distinct signatures -> {len(clusters)} clusters)")
    print(f"total:             {t2 - t0:7.2f} s   (goal <= 60 s)")
    print(f"peak memory:       {peak_kib / 1024:7.1f} MiB (max RSS of the process; goal <= 2048 MiB)")

    stored = [ClusterExemplars(c.key, c.signature, c.exemplars, c.kind) for c in clusters]
    t3 = time.perf_counter()
    fresh = [prepare_failure(r["id"], r["text"], verifier=r["verifier"], repo=r["repo"]) for r in new]
    results = assign_failures(fresh, stored)
    t4 = time.perf_counter()
    joined = sum(1 for key, _, _ in results if key is not None)
    print(f"assign {len(new)} new:   {t4 - t3:7.2f} s   ({joined} joined an existing cluster; goal <= 2 s)")
    # The next import's batch: the clusters did not change, so their fitted term space is reused.
    t3 = time.perf_counter()
    fresh = [prepare_failure(r["id"], r["text"], verifier=r["verifier"], repo=r["repo"]) for r in new]
    assign_failures(fresh, stored)
    t4 = time.perf_counter()
    print(f"again, fit reused: {t4 - t3:7.2f} s")

    if args.skip_drain:
        return
    import logging

    from drain3 import TemplateMiner

    logging.getLogger("drain3").setLevel(logging.ERROR)
    miner = TemplateMiner()
    t5 = time.perf_counter()
    for r in old:
        for line in r["text"].splitlines():
            if line.strip():
                miner.add_log_message(line.strip())
    t6 = time.perf_counter()
    print(f"Drain3 on the same raw lines: {t6 - t5:7.2f} s   (fleetui total / Drain3 = {(t2 - t0) / (t6 - t5):.2f})")


if __name__ == "__main__":
    main()
