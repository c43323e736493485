"""Time and peak memory to extract and cluster many failures, and incremental assignment, beside Drain3.

The texts are the ends of real failing build logs (BUMP Maven logs, LogChunks Travis logs, CiDiff GitHub
Actions logs), repeated across a made-up fleet: each copy gets its own repository name, home folder and
numbers, as the same failure looks in many repositories. fleetui and Drain3 each run in a fresh process
over the same texts, so each peak memory is its own.
"""

import argparse
import multiprocessing
import re
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    WORDS,
    add_data_argument,
    data_path,
    read_jsonl_gz,
    seeded,
    synthetic_failures,
    use_data_dir,
)

SOURCES = ("bump-dev.jsonl.gz", "logchunks-dev.jsonl.gz", "cidiff-extraction.jsonl.gz")
_NUMBER = re.compile(r"(?<![\w.])\d{2,}(?![\w.])")


def _real_logs() -> list[tuple[str, str, str | None]]:
    """(repository, log, verifier hint) of every real log found under --data."""
    logs = []
    for name in SOURCES:
        path = data_path(name)
        if not path.exists():
            print(f"note: {name} not found under --data; its logs are left out")
            continue
        for row in read_jsonl_gz(path):
            logs.append((row.get("repo") or "acme/app", row["log"], "maven" if name.startswith("bump") else None))
    return logs


def failure_texts(n: int, seed: int) -> tuple[list[dict], str]:
    """n failure records {id, text, verifier, repo}, and a sentence saying what they are."""
    logs = _real_logs()
    if not logs:
        return synthetic_failures(n, seed=seed), "synthetic texts from templates (no data sets given)"
    rnd = seeded(seed)
    tails = []
    for repo, log, verifier in logs:
        lines = log.splitlines()
        tails.append((repo, lines[-200:], verifier))
    records = []
    for i in range(n):
        repo, lines, verifier = tails[rnd.randrange(len(tails))]
        owner, name = repo.split("/", 1) if "/" in repo else ("acme", repo)
        new_owner, new_name = rnd.choice(WORDS), f"{rnd.choice(WORDS)}-{rnd.choice(('api', 'service', 'web'))}{i % 97}"
        text = "\n".join(lines[-rnd.randint(15, 60) :])
        text = text.replace(name, new_name).replace(owner, new_owner)
        text = _NUMBER.sub(lambda m: str(rnd.randrange(10, 10 ** len(m.group(0)))), text)
        records.append({"id": f"f{i:06d}", "text": text, "verifier": verifier, "repo": f"{new_owner}/{new_name}"})
    return records, f"ends (15-60 lines) of {len(logs)} real failing build logs, renamed and renumbered per copy"


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fleetui(n: int, new: int, seed: int, data: Path | None, out) -> None:
    use_data_dir(data)
    from triage.engine.clustering import ClusterExemplars, assign_failures, cluster_failures, prepare_failure

    records, what = failure_texts(n + new, seed)
    old, fresh_records = records[:n], records[n:]
    c0, t0 = time.process_time(), time.perf_counter()
    items = [prepare_failure(r["id"], r["text"], verifier=r["verifier"], repo=r["repo"]) for r in old]
    t1 = time.perf_counter()
    clusters = cluster_failures(items)
    c2, t2 = time.process_time(), time.perf_counter()
    stored = [
        ClusterExemplars(c.key, c.signature, c.exemplars, c.kind, tuple(c.causes), tuple(c.tokens)) for c in clusters
    ]
    # At import time each new failure is extracted and signed; the assignment after the import reads those.
    t3 = time.perf_counter()
    fresh = [prepare_failure(r["id"], r["text"], verifier=r["verifier"], repo=r["repo"]) for r in fresh_records]
    t35 = time.perf_counter()
    results = assign_failures(fresh, stored)
    t4 = time.perf_counter()
    out.send(
        {
            "what": what,
            "mb": sum(len(r["text"]) for r in old) / 1e6,
            "lines": sum(r["text"].count("\n") + 1 for r in old),
            "extract": t1 - t0,
            "cluster": t2 - t1,
            "cpu": c2 - c0,
            "clusters": len(clusters),
            "distinct": len({i.signature for i in items}),
            "prepare_new": t35 - t3,
            "assign": t4 - t35,
            "joined": sum(1 for key, _, _ in results if key is not None),
            "peak": _peak_mib(),
        }
    )


def _drain(n: int, new: int, seed: int, data: Path | None, out) -> None:
    import logging

    from drain3 import TemplateMiner

    use_data_dir(data)
    logging.getLogger("drain3").setLevel(logging.ERROR)
    records, _ = failure_texts(n + new, seed)
    miner = TemplateMiner()
    c0, t0 = time.process_time(), time.perf_counter()
    for r in records[:n]:
        for line in r["text"].splitlines():
            if line.strip():
                miner.add_log_message(line.strip())
    c1, t1 = time.process_time(), time.perf_counter()
    out.send({"total": t1 - t0, "cpu": c1 - c0, "clusters": len(miner.drain.clusters), "peak": _peak_mib()})


def _in_process(target, *args) -> dict:
    parent, child = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.get_context("fork").Process(target=target, args=(*args, child))
    process.start()
    result = parent.recv()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="number of failure texts")
    parser.add_argument("--new", type=int, default=1_000, help="failures assigned incrementally afterwards")
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--skip-drain", action="store_true")
    add_data_argument(parser)
    args = parser.parse_args()

    ours = _in_process(_fleetui, args.n, args.new, args.seed, args.data)
    total = ours["extract"] + ours["cluster"]
    print(f"{args.n} failure texts: {ours['what']}")
    print(f"  {ours['mb']:.1f} MB, {ours['lines']} lines; then {args.new} new ones")
    print(f"{'':28s} {'seconds':>8s} {'peak MiB':>9s}")
    print(f"{'fleetui extract+normalise':28s} {ours['extract']:8.2f}")
    print(
        f"{'fleetui cluster':28s} {ours['cluster']:8.2f}   ({ours['distinct']} signatures -> {ours['clusters']} clusters)"
    )
    print(f"{'fleetui total':28s} {total:8.2f} {ours['peak']:9.1f}   (goal <= 30 s and <= 2048 MiB)")
    print(f"{'fleetui total, CPU seconds':28s} {ours['cpu']:8.2f}   (what a busy machine does not inflate)")
    print(f"{'fleetui extract ' + str(args.new) + ' new':28s} {ours['prepare_new']:8.2f}   (at import time)")
    print(
        f"{'fleetui assign ' + str(args.new) + ' new':28s} {ours['assign']:8.2f}"
        f"   ({ours['joined']} joined an existing cluster; goal <= 1 s)"
    )
    if args.skip_drain:
        return
    drain = _in_process(_drain, args.n, args.new, args.seed, args.data)
    print(
        f"{'Drain3 over the same lines':28s} {drain['total']:8.2f} {drain['peak']:9.1f}   ({drain['clusters']} templates)"
    )
    print(f"{'Drain3, CPU seconds':28s} {drain['cpu']:8.2f}")
    print(
        f"fleetui total / Drain3 = {total / drain['total']:.2f}  (goal <= 1.00); in CPU seconds {ours['cpu'] / drain['cpu']:.2f}"
    )


if __name__ == "__main__":
    main()
