"""`manage.py bench_import`: the import's cost next to MLflow's own read of the same traces.

Writes N traces (8 spans each, one 20 KB verifier output) into a fresh MLflow sqlite store,
then times (a) `search_traces` reading all of them with spans and (b) a full import into
a fresh fleetui database (a throw-away test database on the configured server).
"""

import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import connection
from django.test.utils import override_settings

os.environ.setdefault("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")


class Command(BaseCommand):
    help = "Benchmark the trace import against MLflow's raw read of the same traces."

    def add_arguments(self, parser):
        parser.add_argument("--traces", type=int, default=1000)
        parser.add_argument("--output-kb", type=int, default=20)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--rounds", type=int, default=3, help="Rounds of raw read and import, medians printed.")

    def handle(self, *args, **options):
        import mlflow

        from runs.demo.tracing import fleet_tags, llm_span, tracking, write_trace

        count = options["traces"]
        rng = random.Random(options["seed"])
        with tempfile.TemporaryDirectory(prefix="fleetui-bench-") as tmp:
            uri = f"sqlite:///{Path(tmp) / 'mlflow.db'}"
            with tracking(uri):
                experiment_id = mlflow.create_experiment("fleet/bench")
                started = time.perf_counter()
                for index in range(count):
                    write_trace(
                        experiment_id=experiment_id,
                        tags=fleet_tags(migration="bench", repo=f"bench/repo-{index:05d}"),
                        spans=_spans(rng, options["output_kb"] * 1024, llm_span),
                    )
                write_seconds = time.perf_counter() - started
                self.stdout.write(f"wrote {count} traces (8 spans each) in {write_seconds:.1f} s")

            # Alternating order, so neither the raw read nor the import always gets the other's warm cache. With
            # DEBUG off, as a worker runs: a development checkout's DEBUG=1 would also log every query's SQL.
            raws, imports, noops, run, read = [], [], [], None, 0
            with override_settings(DEBUG=False):
                for round_ in range(options["rounds"]):
                    steps = ("raw", "import") if round_ % 2 == 0 else ("import", "raw")
                    for step in steps:
                        if step == "raw":
                            seconds, read = _raw_read(uri, experiment_id)
                            raws.append(seconds)
                        else:
                            seconds, noop, run = self._import(uri)
                            imports.append(seconds)
                            noops.append(noop)

        raw_seconds, import_seconds = statistics.median(raws), statistics.median(imports)
        rate = run.imported / import_seconds if import_seconds else 0.0
        ratio = import_seconds / raw_seconds if raw_seconds else float("inf")
        ratios = ", ".join(f"{i / r:.2f}" for i, r in zip(imports, raws, strict=True))
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"medians of {options['rounds']} rounds, raw read and import in alternating order",
                    f"{'measure':<44}{'seconds':>10}{'traces/s':>12}",
                    f"{'(a) MLflow search_traces with spans':<44}{raw_seconds:>10.2f}{read / raw_seconds:>12.0f}",
                    f"{'(b) fleetui import (read + parse + write)':<44}{import_seconds:>10.2f}{rate:>12.0f}",
                    f"{'(c) repeated import (nothing new)':<44}{statistics.median(noops):>10.2f}{'':>12}",
                    "",
                    f"import / raw read ratio: {ratio:.2f}x (goal at most 1.2x); per round: {ratios}",
                    f"import rate: {rate:.0f} traces/s, database: {connection.vendor}",
                    f"imported {run.imported}, errors {run.errors}",
                ]
            )
        )

    def _import(self, uri):
        # Load scikit-learn (used by clustering after each import) and open the broker before
        # timing: a worker pays for both once per process, not once per import.
        import triage.clusters.services  # noqa: F401
        from fleetui.celery import app

        # The task sent after the import goes through the app's task registry and its pool of producers, both of
        # which a worker has ready before its first task.
        app.finalize(auto=True)
        with app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=1)
            producer.connection.default_channel  # noqa: B018 - opening the channel creates the broker's tables
        from runs.imports.services import import_run_execute

        creation = connection.creation
        original = connection.settings_dict["NAME"]
        test_name = creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            started = time.perf_counter()
            run = import_run_execute(tracking_uri=uri, trigger="bench")
            import_seconds = time.perf_counter() - started
            started = time.perf_counter()
            import_run_execute(tracking_uri=uri, trigger="bench")
            noop_seconds = time.perf_counter() - started
        finally:
            creation.destroy_test_db(original, verbosity=0)
        del test_name
        return import_seconds, noop_seconds, run


def _raw_read(uri: str, experiment_id: str) -> tuple[float, int]:
    """MLflow's own read of every trace with its spans, page by page: seconds and traces read."""
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    started = time.perf_counter()
    read, token = 0, None
    while True:
        page = client.search_traces(
            locations=[experiment_id],
            order_by=["timestamp_ms ASC", "request_id ASC"],
            max_results=200,
            page_token=token,
        )
        read += sum(len(trace.data.spans) > 0 for trace in page)
        token = page.token
        if not token:
            break
    return time.perf_counter() - started, read


def _spans(rng, output_size, llm_span):
    failing = rng.random() < 0.3
    lines = []
    size = 0
    while size < output_size:
        line = f"[INFO] Compiling module {rng.randrange(10_000)} of the build ({rng.random():.6f})"
        lines.append(line)
        size += len(line) + 1
    if failing:
        lines += ["[ERROR] /src/Main.java:[12,8] cannot find symbol", "[INFO] BUILD FAILURE"]
    output = "\n".join(lines)
    return [
        llm_span(),
        llm_span(),
        {"name": "tool_Read", "type": "TOOL", "inputs": {"path": "pom.xml"}, "outputs": {"content": "<project/>"}},
        llm_span(),
        {"name": "verify", "type": "TOOL", "outputs": {"verifier": "maven", "passed": not failing, "output": output}},
        llm_span(),
        {"name": "judge", "type": "EVALUATOR", "outputs": {"verdict": "approve", "rationale": "ok"}},
    ]
