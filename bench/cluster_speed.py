"""Time and peak memory to extract and cluster many failures, and incremental assignment, beside Drain3.

The texts are the ends of real failing build logs (BUMP Maven logs, LogChunks Travis logs, CiDiff GitHub
Actions logs), repeated across a made-up fleet: each copy gets its own repository name, home folder and
numbers, as the same failure looks in many repositories. fleetui and Drain3 each run in a fresh process
over the same texts, so each peak memory is its own.
"""

import argparse
import multiprocessing
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    WORDS,
    PeakMemory,
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


def _fleetui(n: int, new: int, seed: int, data: Path | None, workers: int, floor: bool, out) -> None:
    use_data_dir(data)
    from triage.engine.batch import RawFailure
    from triage.engine.clustering import ClusterExemplars, assign_failures, cluster_failures, prepare_failures

    records, what = failure_texts(n + new, seed)
    raw = [RawFailure(r["id"], r["text"], r["verifier"], r["repo"]) for r in records]
    old, fresh_records = raw[:n], raw[n:]
    with PeakMemory() as peak:
        c0, t0 = time.process_time(), time.perf_counter()
        items = prepare_failures(old, workers=workers)
        t1 = time.perf_counter()
        clusters = cluster_failures(items)
        c2, t2 = time.process_time(), time.perf_counter()
    stored = [
        ClusterExemplars(c.key, c.signature, c.exemplars, c.kind, tuple(c.causes), tuple(c.tokens)) for c in clusters
    ]
    # At import time each new failure is extracted and signed; the assignment after the import reads those.
    t3 = time.perf_counter()
    fresh = prepare_failures(fresh_records, workers=1)
    t35 = time.perf_counter()
    results = assign_failures(fresh, stored)
    t4 = time.perf_counter()
    # The same texts once more in this process: every line's work is cached, so what is left is the work
    # done per text whatever the caches hold (the floor of this design).
    again = None
    if floor:
        t5 = time.perf_counter()
        prepare_failures(old, workers=1)
        again = time.perf_counter() - t5
    out.send(
        {
            "what": what,
            "mb": sum(len(r.text) for r in old) / 1e6,
            "lines": sum(r.text.count("\n") + 1 for r in old),
            "extract": t1 - t0,
            "cluster": t2 - t1,
            "total": t2 - t0,
            # CPU seconds of this process only: the workers' are in the wall-clock time.
            "cpu": c2 - c0,
            "clusters": len(clusters),
            "distinct": len({i.signature for i in items}),
            "prepare_new": t35 - t3,
            "assign": t4 - t35,
            "joined": sum(1 for key, _, _ in results if key is not None),
            "peak": peak.mib,
            "again": again,
        }
    )


def _drain(n: int, new: int, seed: int, data: Path | None, out) -> None:
    import logging

    from drain3 import TemplateMiner

    use_data_dir(data)
    logging.getLogger("drain3").setLevel(logging.ERROR)
    records, _ = failure_texts(n + new, seed)
    miner = TemplateMiner()
    with PeakMemory() as peak:
        c0, t0 = time.process_time(), time.perf_counter()
        for r in records[:n]:
            for line in r["text"].splitlines():
                if line.strip():
                    miner.add_log_message(line.strip())
        c1, t1 = time.process_time(), time.perf_counter()
    out.send({"total": t1 - t0, "cpu": c1 - c0, "clusters": len(miner.drain.clusters), "peak": peak.mib})


def _in_process(target, *args) -> dict:
    parent, child = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.get_context("fork").Process(target=target, args=(*args, child))
    process.start()
    result = parent.recv()
    process.join()
    return result


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000, help="number of failure texts")
    parser.add_argument("--new", type=int, default=1_000, help="failures assigned incrementally afterwards")
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--repeat", type=int, default=1, help="rounds; medians are printed")
    parser.add_argument("--workers", type=int, default=2, help="processes of the parallel run")
    parser.add_argument("--skip-drain", action="store_true")
    parser.add_argument(
        "--floor", action="store_true", help="also extract the same texts again in the serial process (warm caches)"
    )
    add_data_argument(parser)
    args = parser.parse_args()

    # Each round runs the three side by side in turn (the order rotating), each in a fresh process, so
    # that a machine busy with other work slows all of them alike and no cache carries over.
    runs: dict[str, list[dict]] = {"serial": [], "parallel": [], "drain": []}
    jobs = {
        "serial": (_fleetui, args.n, args.new, args.seed, args.data, 1, args.floor),
        "parallel": (_fleetui, args.n, args.new, args.seed, args.data, args.workers, False),
        "drain": (_drain, args.n, args.new, args.seed, args.data),
    }
    names = [name for name in jobs if not (name == "drain" and args.skip_drain)]
    for round_ in range(args.repeat):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            runs[name].append(_in_process(*jobs[name]))
        _print_round(round_, runs, names)
    _report(args, runs)


def _print_round(round_: int, runs: dict[str, list[dict]], names: list[str]) -> None:
    cells = [f"{name} {runs[name][-1]['total']:.2f} s" for name in names]
    print(f"round {round_ + 1}: " + ", ".join(cells), flush=True)


def _report(args, runs: dict[str, list[dict]]) -> None:
    serial, parallel, drain = runs["serial"], runs["parallel"], runs["drain"]
    first = serial[0]
    print(f"\n{args.n} failure texts: {first['what']}")
    print(f"  {first['mb']:.1f} MB, {first['lines']} lines; then {args.new} new ones; medians of {args.repeat} rounds")
    print(f"{'':40s} {'seconds':>8s} {'peak MiB':>9s}")
    for label, rs in (("serial", serial), (f"{args.workers} processes", parallel)):
        print(f"{'fleetui ' + label + ', extract+normalise':40s} {_median(rs, 'extract'):8.2f}")
        print(
            f"{'fleetui ' + label + ', cluster':40s} {_median(rs, 'cluster'):8.2f}"
            f"   ({first['distinct']} signatures -> {first['clusters']} clusters)"
        )
        print(
            f"{'fleetui ' + label + ', total':40s} {_median(rs, 'total'):8.2f} {_median(rs, 'peak'):9.1f}"
            "   (goal <= 30 s and <= 2048 MiB, workers' memory included)"
        )
    print(f"{'fleetui serial, CPU seconds':40s} {_median(serial, 'cpu'):8.2f}   (what a busy machine does not inflate)")
    if args.floor:
        print(
            f"{'fleetui serial, the same texts again':40s} {_median(serial, 'again'):8.2f}"
            "   (every line cached: the work per text that no cache saves)"
        )
    print(f"{'fleetui extract ' + str(args.new) + ' new':40s} {_median(serial, 'prepare_new'):8.2f}   (at import time)")
    print(
        f"{'fleetui assign ' + str(args.new) + ' new':40s} {_median(serial, 'assign'):8.2f}"
        f"   ({first['joined']} joined an existing cluster; goal <= 1 s)"
    )
    if not drain:
        return
    print(
        f"{'Drain3 over the same lines':40s} {_median(drain, 'total'):8.2f} {_median(drain, 'peak'):9.1f}"
        f"   ({drain[0]['clusters']} templates)"
    )
    print(f"{'Drain3, CPU seconds':40s} {_median(drain, 'cpu'):8.2f}")
    # Ratios within each round (the runs of one round saw the same load), then their median.
    for label, rs in (("serial", serial), (f"{args.workers} processes", parallel)):
        ratios = [r["total"] / d["total"] for r, d in zip(rs, drain, strict=True)]
        print(
            f"fleetui {label} / Drain3 = {statistics.median(ratios):.2f}  (goal <= 1.00; per round: "
            + ", ".join(f"{x:.2f}" for x in ratios)
            + ")"
        )
    cpu = [r["cpu"] / d["cpu"] for r, d in zip(serial, drain, strict=True)]
    print(f"fleetui serial / Drain3 in CPU seconds = {statistics.median(cpu):.2f}")


if __name__ == "__main__":
    main()
