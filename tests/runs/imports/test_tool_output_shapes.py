"""Every tool-output shape MLflow's integrations write, read right: traces written through the tracing API into a real store.

One MLflow store serves the module (creating a store is the slow part); each test reads its own experiment.
"""

import json
from datetime import UTC, datetime, timedelta

import mlflow
import pytest
from mlflow.claude_code.tracing import process_transcript

from runs.demo.tracing import fleet_tags, write_trace
from runs.fleet.models import Attempt, Outcome, Target, VerifierResult
from runs.imports.services import import_run_execute
from tests.mlflow_support import verify_span

pytestmark = pytest.mark.django_db(transaction=True)

MAVEN_FAILURE = "\n".join(
    [
        "[INFO] Scanning for projects...",
        "[INFO] Building payments-api 1.4.0",
        "[ERROR] COMPILATION ERROR :",
        "[ERROR] /src/main/java/com/acme/Api.java:[12,8] cannot find symbol",
        "[ERROR]   symbol:   class Assert",
        "[INFO] BUILD FAILURE",
    ]
)
MAVEN_SUCCESS = "[INFO] Scanning for projects...\n[INFO] Tests run: 12, Failures: 0\n[INFO] BUILD SUCCESS"
# Output with none of the failure lines the reader knows: only the exit code or error flag tells.
QUIET_FAILURE = "Downloading from central: https://repo.maven.apache.org/maven2/org/junit/junit-bom.pom"


def run_import(store_uri, exp):
    return import_run_execute(tracking_uri=store_uri, trigger="test", experiments=[exp])


def bash(outputs, command="cd repo && mvn -B verify", attributes=None):
    return {
        "name": "tool_Bash",
        "type": "TOOL",
        "inputs": {"command": command, "description": "Run the build"},
        "attributes": {"tool_name": "Bash", "tool_id": "toolu_01", **(attributes or {})},
        "outputs": outputs,
    }


FAILING_SHAPES = {
    # The shape MLflow's Claude Code tracing writes: tool_span.set_outputs({"result": tool_result}).
    "string-result-ending-in-exit-code": bash({"result": MAVEN_FAILURE + "\n(exit code 1)"}),
    "string-result-exit-code-only": bash({"result": QUIET_FAILURE + " (exit code 1)"}),
    "claude-code-exit-code-first-line": bash({"result": "Exit code 1\n" + QUIET_FAILURE}),
    "claude-code-error-exit-code": bash({"result": "Error: Exit code 2\n" + QUIET_FAILURE}),
    "process-exited-trailer": bash({"result": QUIET_FAILURE + "\nProcess exited with code 1"}),
    "list-of-text-blocks": bash({"result": [{"type": "text", "text": MAVEN_FAILURE}]}),
    "agent-sdk-str-of-list": bash({"result": str([{"type": "text", "text": MAVEN_FAILURE}])}),
    "mcp-content-blocks-is-error": bash({"content": [{"type": "text", "text": QUIET_FAILURE}], "isError": True}),
    "content-string": bash({"content": MAVEN_FAILURE}),
    "stdout-stderr-exit-code": bash({"stdout": QUIET_FAILURE, "stderr": "", "exit_code": 1}),
    "stdout-stderr-returncode": bash({"stdout": QUIET_FAILURE, "stderr": "killed", "returncode": 137}),
    "stdout-stderr-error-text": bash({"stdout": MAVEN_FAILURE, "stderr": "", "interrupted": False}),
    "result-with-is-error": bash({"result": QUIET_FAILURE, "is_error": True}),
    "is-error-attribute": bash({"result": QUIET_FAILURE}, attributes={"is_error": True}),
    "json-string-result": bash({"result": json.dumps({"stdout": QUIET_FAILURE, "stderr": "", "exit_code": 1})}),
    "bare-string": bash(MAVEN_FAILURE),
    "output-key": bash({"output": MAVEN_FAILURE}),
}


@pytest.mark.parametrize("span", FAILING_SHAPES.values(), ids=FAILING_SHAPES.keys())
def test_each_failing_tool_output_shape_imports_as_a_failed_build(store_uri, exp, span):
    trace_id = write_trace(experiment_id=exp, tags=fleet_tags(repo="acme/payments-api"), spans=[span])

    run = run_import(store_uri, exp)

    assert run.errors == 0
    result = VerifierResult.objects.get(attempt__trace_id=trace_id)
    assert (result.kind, result.passed) == ("maven", False)
    assert result.output.strip(), "the output text was lost"
    assert Attempt.objects.get(trace_id=trace_id).outcome == Outcome.VERIFY_FAILED


def test_the_exit_code_written_in_the_text_is_recorded_and_the_snippet_found(store_uri, exp):
    trace_id = write_trace(
        experiment_id=exp, tags=fleet_tags(), spans=[bash({"result": MAVEN_FAILURE + "\n(exit code 1)"})]
    )

    run_import(store_uri, exp)

    result = VerifierResult.objects.get(attempt__trace_id=trace_id)
    assert result.exit_code == 1
    assert "cannot find symbol" in result.snippet
    assert result.signature


PASSING_SHAPES = {
    "string-result": bash({"result": MAVEN_SUCCESS}),
    "string-result-exit-code-0": bash({"result": MAVEN_SUCCESS + "\n(exit code 0)"}),
    "list-of-text-blocks": bash({"result": [{"type": "text", "text": MAVEN_SUCCESS}]}),
    "mcp-content-not-error": bash({"content": [{"type": "text", "text": MAVEN_SUCCESS}], "isError": False}),
    "stdout-stderr-exit-code-0": bash({"stdout": MAVEN_SUCCESS, "stderr": "WARNING: deprecated", "exit_code": 0}),
}


@pytest.mark.parametrize("span", PASSING_SHAPES.values(), ids=PASSING_SHAPES.keys())
def test_each_passing_tool_output_shape_imports_as_a_passed_build_with_its_text(store_uri, exp, span):
    trace_id = write_trace(experiment_id=exp, tags=fleet_tags(), spans=[span])

    run_import(store_uri, exp)

    result = VerifierResult.objects.get(attempt__trace_id=trace_id)
    assert result.passed is True
    assert "BUILD SUCCESS" in result.output
    assert Attempt.objects.get(trace_id=trace_id).outcome == Outcome.SUCCEEDED


VERIFY_SHAPES = {
    "mcp-verify-string-result": {
        "name": "tool_mcp__fleet__verify",
        "type": "TOOL",
        "outputs": {"result": json.dumps({"verifier": "maven", "passed": False, "output": MAVEN_FAILURE})},
    },
    "mcp-verify-sdk-str-of-list": {
        "name": "tool_mcp__fleet__verify",
        "type": "TOOL",
        "outputs": {
            "result": str([{"type": "text", "text": json.dumps({"verifier": "maven", "output": MAVEN_FAILURE})}])
        },
    },
    "verify-content-is-error": {
        "name": "verify",
        "type": "TOOL",
        "outputs": {"content": [{"type": "text", "text": MAVEN_FAILURE}], "isError": True},
    },
}


@pytest.mark.parametrize("span", VERIFY_SHAPES.values(), ids=VERIFY_SHAPES.keys())
def test_each_verify_tool_shape_is_read_as_a_failed_maven_call(store_uri, exp, span):
    trace_id = write_trace(experiment_id=exp, tags=fleet_tags(), spans=[span])

    run_import(store_uri, exp)

    result = VerifierResult.objects.get(attempt__trace_id=trace_id)
    assert (result.kind, result.passed) == ("maven", False)
    assert "cannot find symbol" in result.output


def _transcript(path, *, tool_result_content, is_error):
    """A Claude Code session transcript (JSONL) in which the agent ran the build once."""
    start = datetime.now(UTC) - timedelta(seconds=30)

    def at(seconds):
        return (start + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")

    entries = [
        {"type": "user", "timestamp": at(0), "message": {"role": "user", "content": "Migrate the tests to JUnit 5."}},
        {
            "type": "assistant",
            "timestamp": at(2),
            "message": {
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [
                    {"type": "tool_use", "id": "toolu_build", "name": "Bash", "input": {"command": "mvn -B verify"}}
                ],
                "usage": {"input_tokens": 1200, "output_tokens": 40},
            },
        },
        {
            "type": "user",
            "timestamp": at(20),
            "toolUseResult": {"stdout": MAVEN_FAILURE, "stderr": "", "interrupted": False, "isImage": False},
            "message": {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_build",
                        "content": tool_result_content,
                        "is_error": is_error,
                    }
                ],
            },
        },
        {
            "type": "assistant",
            "timestamp": at(25),
            "message": {
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [{"type": "text", "text": "The build fails: Assert is not found."}],
                "usage": {"input_tokens": 1500, "output_tokens": 12},
            },
        },
    ]
    path.write_text("\n".join(json.dumps(entry) for entry in entries) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "content",
    [
        "Exit code 1\n" + MAVEN_FAILURE,
        [{"type": "text", "text": "Exit code 1\n" + MAVEN_FAILURE}],
    ],
    ids=["string-content", "text-block-content"],
)
def test_a_claude_code_transcript_traced_by_mlflow_imports_its_failing_build(store_uri, exp, tmp_path, content):
    path = _transcript(tmp_path / "session.jsonl", tool_result_content=content, is_error=True)
    mlflow.set_experiment(experiment_id=exp)
    trace = process_transcript(str(path), session_id="session-1")
    assert trace is not None, "MLflow's Claude Code tracing could not process the transcript offline"
    client = mlflow.MlflowClient()
    for key, value in fleet_tags(repo="acme/payments-api").items():
        client.set_trace_tag(trace.info.trace_id, key, value)
    [tool_span] = [span for span in trace.data.spans if span.name == "tool_Bash"]
    assert isinstance(tool_span.outputs["result"], str | list)

    run = run_import(store_uri, exp)

    assert (run.imported, run.errors) == (1, 0)
    attempt = Attempt.objects.get(trace_id=trace.info.trace_id)
    result = attempt.verifier_results.get()
    assert (result.kind, result.passed, result.exit_code, result.command) == ("maven", False, 1, "mvn -B verify")
    assert "cannot find symbol" in result.snippet
    assert attempt.outcome == Outcome.VERIFY_FAILED
    assert attempt.prompt_revision.text == "Migrate the tests to JUnit 5."


def test_a_baseline_numbered_zero_is_imported_and_marks_the_pre_existing_failure(store_uri, exp):
    baseline = write_trace(
        experiment_id=exp,
        tags=fleet_tags(repo="acme/legacy", attempt=0, phase="baseline"),
        spans=[verify_span(passed=False, output=MAVEN_FAILURE)],
    )
    first = write_trace(
        experiment_id=exp,
        tags=fleet_tags(repo="acme/legacy", attempt=1),
        spans=[verify_span(passed=False, output=MAVEN_FAILURE)],
    )

    run = run_import(store_uri, exp)

    assert (run.imported, run.errors) == (2, 0)
    target = Target.objects.get(repository__full_name="acme/legacy")
    assert target.baseline_attempt.trace_id == baseline
    assert target.baseline_attempt.number == 0
    assert (target.latest_attempt.trace_id, target.attempts_count) == (first, 1)
    assert target.pre_existing_failure is True
    baseline_result = VerifierResult.objects.get(attempt__trace_id=baseline)
    assert baseline_result.passed is False
    assert "cannot find symbol" in baseline_result.snippet


def test_a_migration_attempt_numbered_zero_is_imported_and_counted(store_uri, exp):
    trace_id = write_trace(experiment_id=exp, tags=fleet_tags(repo="acme/zero", attempt=0), spans=[verify_span()])

    run = run_import(store_uri, exp)

    assert (run.imported, run.errors) == (1, 0)
    target = Target.objects.get(repository__full_name="acme/zero")
    assert (target.latest_attempt.trace_id, target.latest_attempt.number, target.state) == (trace_id, 0, "succeeded")


@pytest.mark.parametrize("value", ["-1", "one", "1.5", "1e3", "99999999999", "\u0663"])
def test_an_attempt_number_that_is_not_a_small_whole_number_is_an_import_error(store_uri, exp, value):
    tags = {**fleet_tags(repo="acme/odd"), "fleet.attempt": value}
    trace_id = write_trace(experiment_id=exp, tags=tags, spans=[verify_span()])

    run = run_import(store_uri, exp)

    [(error_trace, reason)] = run.error_rows.values_list("trace_id", "reason")
    assert error_trace == trace_id
    assert "fleet.attempt" in reason and "whole number 0 or more" in reason
    assert not Attempt.objects.exists()
