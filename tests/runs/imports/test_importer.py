"""The importer against a real MLflow sqlite store written through the tracing API."""

import json
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from runs.demo.tracing import experiment, fleet_tags, judge_span, llm_span, tracking, write_trace
from runs.fleet.models import Attempt, JudgeVerdict, Outcome, PullRequest, Target, VerifierResult
from runs.imports.models import ImportRun, ImportWatermark
from runs.imports.services import import_run_execute
from tests.mlflow_support import drop_spans, verify_span

pytestmark = pytest.mark.django_db(transaction=True)

MAVEN_FAILURE = "\n".join(
    ["[INFO] Scanning for projects..."] * 30
    + [
        "[ERROR] COMPILATION ERROR :",
        "[ERROR] /src/main/java/com/acme/Api.java:[12,8] cannot find symbol",
        "[ERROR]   symbol:   class Assert",
        "[INFO] BUILD FAILURE",
    ]
)


@pytest.fixture
def store(tmp_path):
    db = tmp_path / "mlflow.db"
    uri = f"sqlite:///{db}"
    with tracking(uri):
        exp = experiment("fleet/junit5")
        yield type("Store", (), {"uri": uri, "db": db, "experiment_id": exp})


def run_import(store, **kwargs):
    return import_run_execute(tracking_uri=store.uri, trigger="test", **kwargs)


def test_it_imports_each_trace_once_across_repeated_runs(store):
    ids = [
        write_trace(experiment_id=store.experiment_id, tags=fleet_tags(repo=f"acme/svc-{i}"), spans=[verify_span()])
        for i in range(5)
    ]
    first = run_import(store)
    second = run_import(store)
    assert first.status == ImportRun.Status.SUCCEEDED
    assert (first.seen, first.imported, first.updated, first.errors) == (5, 5, 0, 0)
    assert (second.imported, second.updated) == (0, 0)
    assert second.skip_reasons == {"unchanged since the last import": 5}
    assert sorted(Attempt.objects.values_list("trace_id", flat=True)) == sorted(ids)
    assert Target.objects.filter(state="succeeded").count() == 5


def test_a_long_session_that_ended_after_the_last_import_is_still_imported(store, settings):
    settings.IMPORT_REWIND_SECONDS = 0
    now = int(time.time() * 1000)
    write_trace(
        experiment_id=store.experiment_id, tags=fleet_tags(repo="acme/short"), start_ms=now - 60_000, duration_ms=1_000
    )
    run_import(store)
    # Started long before the first import, but only finished (and reached the store) now.
    long_id = write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo="acme/long"),
        start_ms=now - 3_600_000,
        duration_ms=3_590_000,
    )
    second = run_import(store)
    assert second.imported == 1
    assert Attempt.objects.filter(trace_id=long_id).exists()


def test_traces_ending_in_the_same_millisecond_as_the_watermark_are_not_missed(store, settings):
    settings.IMPORT_REWIND_SECONDS = 0
    end = int(time.time() * 1000) - 5_000
    first_ids = [
        write_trace(
            experiment_id=store.experiment_id, tags=fleet_tags(repo=f"acme/a{i}"), start_ms=end - 500, duration_ms=500
        )
        for i in range(2)
    ]
    run_import(store)
    assert ImportWatermark.objects.get(experiment_id=store.experiment_id).end_time_ms == end
    late_id = write_trace(
        experiment_id=store.experiment_id, tags=fleet_tags(repo="acme/late"), start_ms=end - 200, duration_ms=200
    )
    second = run_import(store)
    assert second.imported == 1
    assert set(Attempt.objects.values_list("trace_id", flat=True)) == {*first_ids, late_id}


def test_damaged_traces_become_error_rows_and_the_import_goes_on(store):
    good = write_trace(experiment_id=store.experiment_id, tags=fleet_tags(repo="acme/good"), spans=[verify_span()])
    no_repo = write_trace(experiment_id=store.experiment_id, tags={"fleet.migration": "junit5", "fleet.attempt": "1"})
    bad_phase = write_trace(experiment_id=store.experiment_id, tags=fleet_tags(repo="acme/x", phase="warmup"))
    write_trace(experiment_id=store.experiment_id, tags={"team": "unrelated"})
    partial = write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo="acme/partial"),
        spans=[llm_span(), verify_span(passed=False, output=MAVEN_FAILURE), llm_span()],
    )
    drop_spans(store.db, partial, keep=2)
    empty = write_trace(experiment_id=store.experiment_id, tags=fleet_tags(repo="acme/empty"), spans=[llm_span()])
    drop_spans(store.db, empty, keep=0)

    run = run_import(store)

    assert run.status == ImportRun.Status.SUCCEEDED
    reasons = dict(run.error_rows.values_list("trace_id", "reason"))
    assert set(reasons) == {no_repo, bad_phase, empty}
    assert "fleet.repo" in reasons[no_repo]
    assert "warmup" in reasons[bad_phase]
    assert "lost in export" in reasons[empty]
    assert run.skip_reasons.get("no fleet.* tags") == 1
    assert Attempt.objects.filter(trace_id=good).exists()
    damaged = Attempt.objects.get(trace_id=partial)
    assert any("2 of 4 spans" in problem for problem in damaged.problems)


def test_malformed_verifier_json_is_kept_as_raw_text(store):
    trace_id = write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(),
        spans=[{"name": "verify", "type": "TOOL", "outputs": "{not json [ERROR] BUILD FAILURE"}],
    )
    run_import(store)
    result = VerifierResult.objects.get(attempt__trace_id=trace_id)
    assert result.output == "{not json [ERROR] BUILD FAILURE"
    assert result.passed is False
    assert Attempt.objects.get(trace_id=trace_id).outcome == Outcome.VERIFY_FAILED


@pytest.mark.parametrize(
    "span",
    [
        verify_span(passed=False, output=MAVEN_FAILURE),
        verify_span(passed=False, output=MAVEN_FAILURE, name="tool_verify"),
        {
            "name": "tool_mcp__fleet__verify",
            "type": "TOOL",
            "outputs": {
                "result": [
                    {
                        "type": "text",
                        "text": json.dumps({"verifier": "maven", "passed": False, "output": MAVEN_FAILURE})[:40],
                    },
                    {
                        "type": "text",
                        "text": json.dumps({"verifier": "maven", "passed": False, "output": MAVEN_FAILURE})[40:],
                    },
                ]
            },
        },
        {
            "name": "call_tool",
            "type": "TOOL",
            "attributes": {"tool_name": "verify"},
            "outputs": {"verifier": "maven", "passed": False, "output": MAVEN_FAILURE},
        },
        {
            "name": "tool_Bash",
            "type": "TOOL",
            "inputs": {"command": "cd repo && mvn -B -q verify"},
            "outputs": {"stdout": MAVEN_FAILURE, "stderr": "", "exit_code": 1},
        },
        {
            "name": "tool_Bash",
            "type": "TOOL",
            "inputs": {"command": "./mvnw verify"},
            "outputs": {"result": [{"type": "text", "text": MAVEN_FAILURE}]},
        },
    ],
    ids=["verify", "tool_verify", "mcp-autolog", "tool_name-attribute", "bash-exit-code", "bash-error-text"],
)
def test_each_verifier_shape_is_read_as_a_failed_maven_call_with_its_snippet(store, span):
    trace_id = write_trace(experiment_id=store.experiment_id, tags=fleet_tags(), spans=[span])
    run_import(store)
    result = VerifierResult.objects.get(attempt__trace_id=trace_id)
    assert (result.kind, result.passed) == ("maven", False)
    assert "cannot find symbol" in result.snippet
    assert result.signature
    assert Attempt.objects.get(trace_id=trace_id).outcome == Outcome.VERIFY_FAILED


def test_pass_or_fail_comes_from_the_outputs_not_the_span_status(store):
    failed_ok_span = write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo="acme/a"),
        spans=[{**verify_span(passed=False, output=MAVEN_FAILURE), "status": "OK"}],
    )
    passed_error_span = write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo="acme/b"),
        spans=[{**verify_span(passed=True), "status": "ERROR"}],
    )
    run_import(store)
    assert VerifierResult.objects.get(attempt__trace_id=failed_ok_span).passed is False
    assert VerifierResult.objects.get(attempt__trace_id=passed_error_span).passed is True


def test_a_bash_command_that_is_not_a_build_is_not_a_verifier_call(store):
    trace_id = write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(),
        spans=[{"name": "tool_Bash", "type": "TOOL", "inputs": {"command": "ls -la"}, "outputs": {"exit_code": 2}}],
    )
    run_import(store)
    assert not VerifierResult.objects.filter(attempt__trace_id=trace_id).exists()


def test_outcomes_follow_the_last_call_of_each_verifier_and_the_judge(store):
    fixed = write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo="acme/fixed", pr_url="https://github.com/acme/fixed/pull/7"),
        spans=[
            llm_span(),
            verify_span(passed=False, output=MAVEN_FAILURE),
            llm_span(),
            verify_span(passed=True),
            judge_span(),
        ],
    )
    rejected = write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo="acme/rejected"),
        spans=[verify_span(passed=True), judge_span("reject", "The agent deleted the failing tests.")],
    )
    crashed = write_trace(experiment_id=store.experiment_id, tags=fleet_tags(repo="acme/crashed"), status="ERROR")
    unchanged = write_trace(experiment_id=store.experiment_id, tags=fleet_tags(repo="acme/same", outcome="no_change"))
    run_import(store)
    outcomes = dict(Attempt.objects.values_list("trace_id", "outcome"))
    assert outcomes == {
        fixed: Outcome.SUCCEEDED,
        rejected: Outcome.JUDGE_REJECTED,
        crashed: Outcome.AGENT_ERROR,
        unchanged: Outcome.NO_CHANGE,
    }
    attempt = Attempt.objects.get(trace_id=fixed)
    assert (attempt.llm_calls, attempt.input_tokens, attempt.output_tokens) == (2, 200, 40)
    assert PullRequest.objects.get(url="https://github.com/acme/fixed/pull/7").attempt == attempt
    assert JudgeVerdict.objects.get(attempt__trace_id=rejected).rationale == "The agent deleted the failing tests."


def test_a_judge_assessment_logged_later_updates_the_attempt(store):
    import mlflow

    trace_id = write_trace(experiment_id=store.experiment_id, tags=fleet_tags(), spans=[verify_span(), judge_span()])
    run_import(store)
    assert Attempt.objects.get(trace_id=trace_id).outcome == Outcome.SUCCEEDED
    mlflow.log_feedback(trace_id=trace_id, name="judge", value="veto", rationale="Unrelated changes in 14 files.")
    second = run_import(store)
    assert second.updated == 1
    verdict = JudgeVerdict.objects.get(attempt__trace_id=trace_id)
    assert (verdict.verdict, verdict.source) == ("veto", "assessment")
    assert Attempt.objects.get(trace_id=trace_id).outcome == Outcome.JUDGE_REJECTED


def test_a_failing_baseline_marks_the_repository_as_a_pre_existing_failure(store):
    write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo="acme/legacy", phase="baseline"),
        spans=[verify_span(passed=False, output=MAVEN_FAILURE)],
    )
    write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo="acme/legacy"),
        spans=[verify_span(passed=False, output=MAVEN_FAILURE)],
    )
    write_trace(
        experiment_id=store.experiment_id, tags=fleet_tags(repo="acme/healthy", phase="baseline"), spans=[verify_span()]
    )
    write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo="acme/healthy"),
        spans=[verify_span(passed=False, output=MAVEN_FAILURE)],
    )
    run_import(store)
    legacy = Target.objects.get(repository__full_name="acme/legacy")
    healthy = Target.objects.get(repository__full_name="acme/healthy")
    assert (legacy.pre_existing_failure, legacy.state, legacy.attempts_count) == (True, "verify_failed", 1)
    assert (healthy.pre_existing_failure, healthy.state) == (False, "verify_failed")


def test_the_latest_attempt_decides_the_repository_state(store):
    now = int(time.time() * 1000)
    write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo="acme/retry", attempt=1),
        spans=[verify_span(passed=False, output=MAVEN_FAILURE)],
        start_ms=now - 20_000,
    )
    run_import(store)
    assert Target.objects.get().state == "verify_failed"
    second = write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo="acme/retry", attempt=2),
        spans=[verify_span()],
        start_ms=now - 5_000,
    )
    run_import(store)
    target = Target.objects.get()
    assert (target.state, target.attempts_count, target.latest_attempt.trace_id) == ("succeeded", 2, second)


def test_non_utf8_and_control_characters_are_stored_safely(store):
    nasty = "caf\u00e9 \x00NUL \x1b[31mred\x1b[0m \x07bell [ERROR] BUILD FAILURE <script>alert(1)</script>"
    trace_id = write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo="acme/bytes"),
        spans=[verify_span(passed=False, output=nasty), judge_span("reject", "bad \x00 rationale")],
    )
    run = run_import(store)
    assert run.errors == 0
    result = VerifierResult.objects.get(attempt__trace_id=trace_id)
    assert "\x00" not in result.output and "caf\u00e9" in result.output and "<script>" in result.output
    assert "\x00" not in JudgeVerdict.objects.get(attempt__trace_id=trace_id).rationale


@contextmanager
def unavailable_tracking_server():
    """A tracking server that answers every request with 503; yields its URL and the list of paths it was asked."""
    asked: list[str] = []

    class Unavailable(BaseHTTPRequestHandler):
        def _answer(self):
            asked.append(self.path)
            body = b'{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "down"}'
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Unavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("retries", [0, 2])
def test_an_unavailable_tracking_server_is_asked_once_plus_its_retries_then_the_import_fails_clearly(
    monkeypatch, retries
):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(retries))
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", "0")
    with unavailable_tracking_server() as (url, asked):
        run = import_run_execute(tracking_uri=url, trigger="test")
    assert run.status == ImportRun.Status.FAILED
    assert "MLflow could not" in run.message and "127.0.0.1" in run.message
    assert len(asked) == 1 + retries, asked
    assert len(set(asked)) == 1  # the same request, retried; nothing else was tried after it failed


def test_a_dead_tracking_server_fails_the_import_with_a_clear_message(monkeypatch):
    from tests.mlflow_support import free_port

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    run = import_run_execute(tracking_uri=f"http://127.0.0.1:{free_port()}", trigger="test")
    assert run.status == ImportRun.Status.FAILED
    assert "MLflow could not" in run.message and "127.0.0.1" in run.message


def test_the_settings_cap_mlflow_retries_and_timeout_unless_the_environment_sets_them():
    names = ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "MLFLOW_HTTP_REQUEST_TIMEOUT")
    script = f"import os, fleetui.settings; print(' '.join(os.environ[n] for n in {names!r}))"
    base = {k: v for k, v in os.environ.items() if k not in names}
    read = subprocess.run(
        [sys.executable, "-c", script],
        env={**base, "DJANGO_SETTINGS_MODULE": "fleetui.settings"},
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert read.stdout.split() == ["1", "1", "10"]
    chosen = subprocess.run(
        [sys.executable, "-c", script],
        env={**base, "DJANGO_SETTINGS_MODULE": "fleetui.settings", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "4"},
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert chosen.stdout.split()[0] == "4"


def test_a_source_dying_mid_import_loses_nothing_committed_and_the_next_run_completes(store, settings, monkeypatch):
    from runs.imports import mlflow as mlflow_client

    settings.IMPORT_PAGE_SIZE = 3
    ids = [
        write_trace(experiment_id=store.experiment_id, tags=fleet_tags(repo=f"acme/r{i}"), spans=[verify_span()])
        for i in range(8)
    ]
    real_load = mlflow_client.TraceSource.load
    calls = {"n": 0}

    def dying_load(self, trace_ids):
        calls["n"] += 1
        if calls["n"] == 2:
            raise mlflow_client.TraceSourceUnavailable("MLflow could not load traces: connection reset")
        return real_load(self, trace_ids)

    monkeypatch.setattr(mlflow_client.TraceSource, "load", dying_load)
    failed = run_import(store)
    assert failed.status == ImportRun.Status.FAILED
    assert failed.imported == 3
    assert Attempt.objects.count() == 3
    assert all(a.verifier_results.count() == 1 for a in Attempt.objects.all())
    assert ImportWatermark.objects.get(experiment_id=store.experiment_id).end_time_ms == 0

    monkeypatch.setattr(mlflow_client.TraceSource, "load", real_load)
    recovered = run_import(store)
    assert recovered.status == ImportRun.Status.SUCCEEDED
    assert (recovered.imported, recovered.skipped) == (5, 3)
    assert sorted(Attempt.objects.values_list("trace_id", flat=True)) == sorted(ids)


@pytest.mark.slow
def test_a_200_mb_verifier_output_is_capped_keeping_head_and_tail(store, settings):
    settings.VERIFIER_OUTPUT_CAP = 1_000_000
    head = "[INFO] start of the build\n"
    tail = "[ERROR] Failed to execute goal: dependency convergence error\n[INFO] BUILD FAILURE\n"
    body = ("x" * 99 + "\n") * (200 * 1024 * 1024 // 100)
    trace_id = write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo="acme/huge"),
        spans=[verify_span(passed=False, output=head + body + tail)],
    )
    del body
    run_import(store)
    result = VerifierResult.objects.get(attempt__trace_id=trace_id)
    assert result.output_truncated is True
    assert result.output_size > 200 * 1024 * 1024
    assert len(result.output) <= 1_000_000
    assert result.output.startswith(head) and result.output.endswith(tail)
    assert "dependency convergence" in result.snippet
