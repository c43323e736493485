"""The batched, multi-process demo writer stores the very traces the one-at-a-time writer stores."""

import json

import mlflow
import pytest
from mlflow import MlflowClient

from runs.demo import bulk
from runs.demo.fleet import fleet_plan
from runs.demo.writer import experiment_ensure, fleet_write, traces_count, write_attempt_trace

ANCHOR_MS = 1_760_000_400_000
# Ids MLflow draws at random, and MLflow's bookkeeping of them, differ between any two writes.
RANDOM_KEYS = {"mlflow.traceRequestId", "mlflow.spanId", "mlflow.trace.sizeBytes", "mlflow.trace.sizeStats"}
# What MLflow notes of the writing process (script, git commit) describes the writer, not the trace.
WRITER_PREFIX = "mlflow.source."


def _sample_fleet():
    """A small fleet with every kind of attempt: failures, damaged traces, judge spans and judge assessments."""
    fleet = fleet_plan(seed=7, repo_count=30, anchor_ms=ANCHOR_MS)
    wanted = [
        lambda a: a.judge and a.judge_as_assessment,
        lambda a: a.judge and not a.judge_as_assessment,
        lambda a: a.error_message and not a.error_via_tag,
        lambda a: a.phase == "baseline",
        *[lambda a, damage=damage: a.damage == damage for damage in {a.damage for a in fleet.attempts if a.damage}],
        *[lambda a, shape=shape: a.verify_shape == shape for shape in sorted({a.verify_shape for a in fleet.attempts})],
    ]
    picked = []
    for matches in wanted:
        found = next((a for a in fleet.attempts if matches(a) and a not in picked), None)
        if found is not None:
            picked.append(found)
    picked += [a for a in fleet.attempts if a not in picked][: 14 - len(picked)]
    fleet.attempts = sorted(picked, key=fleet.attempts.index)
    assert any(a.judge and a.judge_as_assessment for a in fleet.attempts)
    assert any(a.damage for a in fleet.attempts) and any(a.outcome == "succeeded" for a in fleet.attempts)
    return fleet


def _clean(value):
    if isinstance(value, dict):
        return {
            k: _clean(v) for k, v in sorted(value.items()) if k not in RANDOM_KEYS and not k.startswith(WRITER_PREFIX)
        }
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _canonical(uri: str, experiments: list[str]) -> list[str]:
    """Every trace of the experiments as text without its random ids, sorted."""
    client = MlflowClient(tracking_uri=uri)
    traces = client.search_traces(locations=experiments, max_results=1000)
    rows = []
    for trace in traces:
        names = {span.span_id: span.name for span in trace.data.spans}
        info = trace.info
        spans = [
            {
                "name": span.name,
                "parent": names.get(span.parent_id),
                "type": span.span_type,
                "start": span.start_time_ns,
                "end": span.end_time_ns,
                "status": span.status.status_code,
                "inputs": span.inputs,
                "outputs": span.outputs,
                "attributes": _clean(span.attributes),
                "events": [(e.name, _clean(e.attributes)) for e in span.events],
            }
            for span in sorted(trace.data.spans, key=lambda s: (s.start_time_ns, s.name))
        ]
        assessments = [
            (a.name, a.value, a.rationale, a.source.source_type, a.source.source_id) for a in info.assessments or []
        ]
        metadata = dict(info.trace_metadata)
        # The store sums the spans' costs in the order it receives them: the last bits may differ.
        cost = {k: round(v, 9) for k, v in json.loads(metadata.pop("mlflow.trace.cost", "{}")).items()}
        row = {
            "experiment": info.experiment_id,
            "request_time": info.request_time,
            "duration": info.execution_duration,
            "state": info.state.value,
            "tags": _clean({k: v for k, v in info.tags.items() if k != "mlflow.artifactLocation"}),
            "metadata": _clean(metadata),
            "cost": cost,
            "token_usage": info.token_usage,
            "spans": spans,
            "assessments": assessments,
        }
        rows.append(json.dumps(row, sort_keys=True, default=str))
    return sorted(rows)


@pytest.fixture
def restore_tracking_uri():
    previous = mlflow.get_tracking_uri()
    yield
    mlflow.set_tracking_uri(previous)


@pytest.mark.slow
def test_the_batched_writer_in_two_processes_stores_the_same_traces_as_the_one_at_a_time_writer(
    tmp_path, monkeypatch, restore_tracking_uri
):
    fleet = _sample_fleet()
    one_uri = f"sqlite:///{tmp_path / 'one.db'}"
    one = {m.slug: experiment_ensure(migration_slug=m.slug, tracking_uri=one_uri) for m in fleet.migrations}
    for attempt in fleet.attempts:
        write_attempt_trace(attempt, tracking_uri=one_uri, experiment_id=one[attempt.migration.slug])
    monkeypatch.setattr(bulk, "CHUNK_ATTEMPTS", 4)  # four chunks: this process takes some, a helper the others
    batch_uri = f"sqlite:///{tmp_path / 'batch.db'}"
    seen = []

    summary = fleet_write(fleet, tracking_uri=batch_uri, workers=2, progress=lambda done, total: seen.append(done))

    assert summary.traces == len(fleet.attempts)
    assert summary.assessments == sum(bool(a.judge and a.judge_as_assessment) for a in fleet.attempts)
    assert sorted(seen) == [4, 8, 12, 14]
    assert summary.experiments == one  # created in the same order, so the same ids
    written = _canonical(batch_uri, list(summary.experiments.values()))
    expected = _canonical(one_uri, list(one.values()))
    assert len(written) == len(expected) == len(fleet.attempts)
    assert written == expected


def test_the_batched_writer_in_this_process_leaves_mlflow_exporting_synchronously(tmp_path, restore_tracking_uri):
    fleet = _sample_fleet()
    fleet.attempts = fleet.attempts[:3]
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"

    fleet_write(fleet, tracking_uri=uri, workers=1)
    # A rerun's single trace after the bulk write is stored before write_attempt_trace returns.
    experiment = experiment_ensure(migration_slug=fleet.attempts[0].migration.slug, tracking_uri=uri)
    trace_id = write_attempt_trace(fleet.attempts[0], tracking_uri=uri, experiment_id=experiment)

    assert MlflowClient(tracking_uri=uri).get_trace(trace_id).info.trace_id == trace_id
    assert traces_count(tracking_uri=uri, experiment_ids=[experiment]) == 1 + sum(
        a.migration.slug == fleet.attempts[0].migration.slug for a in fleet.attempts
    )


def test_a_trace_the_store_refuses_fails_the_write_instead_of_going_missing(
    tmp_path, monkeypatch, restore_tracking_uri
):
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    fleet = _sample_fleet()
    fleet.attempts = fleet.attempts[:3]
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    original = SqlAlchemyStore.start_trace
    calls = []

    def refuse_the_second(self, trace_info):
        calls.append(trace_info.trace_id)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(self, trace_info)

    monkeypatch.setattr(SqlAlchemyStore, "start_trace", refuse_the_second)

    with pytest.raises(bulk.TraceWriteError, match="disk full"):
        fleet_write(fleet, tracking_uri=uri, workers=1)
