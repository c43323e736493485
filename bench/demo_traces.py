"""Writing the demo fleet's traces: one at a time (as `seed_demo` used to) against batched, in 1 and N processes.

    python bench/demo_traces.py --traces 200          # the first 200 attempts of the default fleet
    python bench/demo_traces.py --traces 1119 --workers 2

Each way writes the same attempts into a new SQLite MLflow store through MLflow's API; the figures are
wall seconds and CPU seconds (this process and its helpers), with the ratio to one-at-a-time measured in
the same run. On a loaded machine wall time moves with the load, CPU time much less.
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def one_at_a_time(fleet, uri: str) -> None:
    from runs.demo.writer import experiment_ensure, sqlite_without_fsync, write_attempt_trace

    experiments = {m.slug: experiment_ensure(migration_slug=m.slug, tracking_uri=uri) for m in fleet.migrations}
    with sqlite_without_fsync():
        for attempt in fleet.attempts:
            write_attempt_trace(attempt, tracking_uri=uri, experiment_id=experiments[attempt.migration.slug])


def batched(fleet, uri: str, workers: int) -> None:
    from runs.demo.writer import fleet_write

    fleet_write(fleet, tracking_uri=uri, workers=workers)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traces", type=int, default=200, help="how many of the fleet's attempts (default 200)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for the last way")
    args = parser.parse_args()

    from runs.demo.fleet import HOUR_MS, fleet_plan

    fleet = fleet_plan(seed=7, repo_count=320, anchor_ms=int(time.time() * 1000) // HOUR_MS * HOUR_MS)
    fleet.attempts = fleet.attempts[: args.traces]
    folder = Path(tempfile.mkdtemp(prefix="fleetui-demo-traces-"))
    ways = [
        ("one at a time", lambda uri: one_at_a_time(fleet, uri)),
        ("batched, 1 process", lambda uri: batched(fleet, uri, 1)),
        (f"batched, {args.workers} processes", lambda uri: batched(fleet, uri, args.workers)),
    ]
    results = []
    for index, (name, write) in enumerate(ways):
        uri = f"sqlite:///{folder / f'way{index}.db'}"
        from runs.demo.writer import experiment_ensure

        for migration in fleet.migrations:  # the store's tables and experiments exist before the clock starts
            experiment_ensure(migration_slug=migration.slug, tracking_uri=uri)
        load = os.getloadavg()[0]
        wall, cpu = time.monotonic(), cpu_seconds()
        write(uri)
        wall, cpu = time.monotonic() - wall, cpu_seconds() - cpu
        results.append((name, wall, cpu, load))
        print(f"{name:<24} {wall:7.1f} s wall {cpu:7.1f} s CPU  (load {load:.1f})", flush=True)
    base_wall, base_cpu = results[0][1], results[0][2]
    print(f"\n{len(fleet.attempts)} traces; against one at a time:")
    for name, wall, cpu, _ in results[1:]:
        print(f"  {name:<24} {base_wall / wall:5.1f}x faster (wall)  {base_cpu / cpu:5.1f}x less CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
