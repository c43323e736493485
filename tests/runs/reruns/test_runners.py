"""Runner backends against real processes and local fake servers."""

import json
import sys

import pytest

from runs.reruns.runners import runner_get
from runs.reruns.runners.base import (
    PermanentRunnerError,
    RunJob,
    RunnerConfigurationError,
    TransientRunnerError,
    job_name,
)
from runs.reruns.runners.command import CommandRunner, parse_template
from runs.reruns.runners.http import HttpRunner, sign, signature_valid
from runs.reruns.runners.kubernetes import KubernetesRunner
from tests.fakes.kubernetes import serve_kubernetes
from tests.fakes.runner_http import serve_fleet_service

SCRIPT = """
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
out.write_text(json.dumps({"argv": sys.argv[2:], "prompt": pathlib.Path(sys.argv[3]).read_text()}))
"""


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "agent.py"
    path.write_text(SCRIPT)
    return f"{sys.executable} {path}"


def job(repo="acme/payments-api", key="1:2:1", **fields):
    values = dict(
        batch_id=1,
        item_id=2,
        repo=repo,
        migration="junit4-to-junit5",
        prompt_revision=3,
        prompt_text="Use JUnit 5 assertions.",
        attempt=2,
        idempotency_key=key,
    )
    values.update(fields)
    return RunJob(**values)


def command_runner(template, timeout=20):
    runner = CommandRunner(template=template, timeout=timeout)
    runner.check()
    return runner


def test_the_command_gets_the_repository_and_the_prompt_file_as_separate_arguments(tmp_path, script):
    out = tmp_path / "out.json"
    runner = command_runner(f"{script} {out} {{repo}} {{prompt_file}} --attempt={{attempt}}")
    started = []
    result = runner.dispatch(job(), on_started=started.append)
    assert result.state == "succeeded" and result.exit_code == 0
    seen = json.loads(out.read_text())
    assert seen["argv"][0] == "acme/payments-api"
    assert seen["argv"][2] == "--attempt=2"
    assert seen["prompt"] == "Use JUnit 5 assertions."
    assert started and started[0].startswith("pid:")


@pytest.mark.parametrize("repo", ["x; touch pwned", "$(id)", "`id` && touch pwned", "a b --force"])
def test_a_repository_name_cannot_add_arguments_or_run_shell_syntax(tmp_path, monkeypatch, script, repo):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out.json"
    runner = command_runner(f"{script} {out} {{repo}} {{prompt_file}}")
    result = runner.dispatch(job(repo=repo))
    assert result.state == "succeeded"
    assert json.loads(out.read_text())["argv"][0] == repo
    assert not (tmp_path / "pwned").exists()


def test_a_failing_command_records_its_exit_code_and_output_tail():
    runner = command_runner(f"{sys.executable} -c \"import sys; print('BUILD FAILURE in {{repo}}'); sys.exit(3)\"")
    result = runner.dispatch(job())
    assert result.state == "failed"
    assert result.exit_code == 3
    assert "exited with code 3" in result.error
    assert "BUILD FAILURE in acme/payments-api" in result.output_tail


def test_a_command_that_runs_too_long_is_stopped_and_fails_with_the_reason():
    runner = command_runner(f'{sys.executable} -c "import time; time.sleep(30)"', timeout=0.5)
    result = runner.dispatch(job())
    assert result.state == "failed"
    assert "timed out" in result.error


@pytest.mark.parametrize(
    "template, message",
    [
        ("fleet-agent run --repo {repository}", "unknown placeholder {repository}"),
        ("fleet-agent run --repo {repo.__class__}", "unknown placeholder"),
        ("fleet-agent run --repo {repo!r}", "unknown placeholder"),
        ("fleet-agent 'unterminated", "cannot be split"),
        ("", "is empty"),
    ],
)
def test_a_bad_command_template_is_a_configuration_error_with_a_clear_message(template, message):
    with pytest.raises(RunnerConfigurationError, match=message.replace("{", r"\{").replace("}", r"\}")):
        parse_template(template)


def test_the_configured_runner_is_checked_on_first_use(settings):
    settings.FLEETUI_RUNNER = "command"
    settings.FLEETUI_RUNNER_COMMAND = "fleet-agent --repo {repo} --prompt {prompt}"
    with pytest.raises(RunnerConfigurationError, match="prompt"):
        runner_get()
    settings.FLEETUI_RUNNER = "carrier-pigeon"
    with pytest.raises(RunnerConfigurationError, match="FLEETUI_RUNNER must be one of"):
        runner_get()


def test_the_http_runner_signs_the_job_and_sends_an_idempotency_key():
    with serve_fleet_service("s3cret") as service:
        runner = HttpRunner(url=f"{service.url}/jobs", secret="s3cret")
        result = runner.dispatch(job())
        again = runner.dispatch(job())
    assert result.state == "succeeded" and again.state == "succeeded"
    assert service.rejected_signatures == 0
    assert [p["key"] for p in service.posts] == ["1:2:1", "1:2:1"]
    assert len(service.jobs) == 1
    assert service.posts[0]["job"]["repo"] == "acme/payments-api"
    assert service.posts[0]["job"]["prompt"] == "Use JUnit 5 assertions."


def test_the_fleet_service_rejects_a_job_signed_with_another_secret():
    with serve_fleet_service("s3cret") as service:
        with pytest.raises(PermanentRunnerError):
            HttpRunner(url=f"{service.url}/jobs", secret="wrong").dispatch(job())
    assert service.rejected_signatures == 1


def test_the_http_runner_polls_the_status_url_until_the_run_ends():
    with serve_fleet_service("s3cret") as service:
        service.first_status = "running"
        service.with_status_url = True
        service.poll_states = ["running", "failed"]
        sleeps = []
        result = HttpRunner(url=f"{service.url}/jobs", secret="s3cret", sleep=sleeps.append).dispatch(job())
    assert result.state == "failed"
    assert result.exit_code == 2
    assert "tests failed" in result.error
    assert len(sleeps) == 2


def test_without_a_status_url_the_http_runner_leaves_the_run_to_the_callback():
    with serve_fleet_service("s3cret") as service:
        service.first_status = "queued"
        result = HttpRunner(url=f"{service.url}/jobs", secret="s3cret").dispatch(job())
    assert result.state == "running"


@pytest.mark.parametrize("status", [429, 500, 503])
def test_busy_or_broken_fleet_services_are_transient_errors(status):
    with serve_fleet_service("s3cret") as service:
        service.fail_next = [status]
        with pytest.raises(TransientRunnerError):
            HttpRunner(url=f"{service.url}/jobs", secret="s3cret").dispatch(job())


def test_an_unreachable_fleet_service_is_a_transient_error():
    with serve_fleet_service("s3cret") as service:
        url = service.url
    with pytest.raises(TransientRunnerError):
        HttpRunner(url=f"{url}/jobs", secret="s3cret", timeout=2).dispatch(job())


def test_signatures_are_checked_in_full():
    body = b'{"state":"succeeded"}'
    assert signature_valid("k", body, sign("k", body))
    assert not signature_valid("k", body + b" ", sign("k", body))
    assert not signature_valid("k", body, "")
    assert not signature_valid("", body, sign("", body))


def test_a_signature_header_of_non_ascii_text_is_wrong_rather_than_an_error():
    body = b'{"item": 1}'
    assert not signature_valid("k", body, "sha256=\u00e9\u00e9")
    assert not signature_valid("k", body, "\udcff")


def k8s_runner(url, **kw):
    runner = KubernetesRunner(namespace="fleet-agents", image="registry.local/fleet-agent:1", api_url=url, **kw)
    runner.check()
    return runner


def test_a_kubernetes_job_carries_the_job_in_its_env_and_is_watched_to_completion():
    with serve_kubernetes() as (fake, url):
        fake.script = ["active", "active", "succeeded"]
        result = k8s_runner(url, poll_interval=0).dispatch(job())
    name = job_name(job())
    assert result.state == "succeeded"
    assert result.runner_ref == f"job/fleet-agents/{name}"
    env = fake.env_of(name)
    assert env["FLEETUI_REPO"] == "acme/payments-api"
    assert env["FLEETUI_MIGRATION"] == "junit4-to-junit5"
    assert env["FLEETUI_PROMPT_REVISION"] == "3"
    assert fake.reads[name] == 3


def test_creating_the_same_kubernetes_job_twice_follows_the_existing_one():
    with serve_kubernetes() as (fake, url):
        runner = k8s_runner(url, poll_interval=0)
        runner.dispatch(job())
        result = runner.dispatch(job())
    assert result.state == "succeeded"
    assert len(fake.jobs) == 1 and fake.conflicts == 1


def test_a_failed_kubernetes_job_fails_with_its_reason():
    with serve_kubernetes() as (fake, url):
        fake.script = ["active", "failed"]
        result = k8s_runner(url, poll_interval=0).dispatch(job())
    assert result.state == "failed"
    assert "BackoffLimitExceeded" in result.error


def test_kubernetes_server_errors_are_transient_and_a_forbidden_namespace_is_permanent():
    with serve_kubernetes() as (fake, url):
        fake.fail_next = [503]
        with pytest.raises(TransientRunnerError):
            k8s_runner(url).dispatch(job())
        fake.fail_next = [403]
        with pytest.raises(PermanentRunnerError):
            k8s_runner(url).dispatch(job())


def test_a_kubernetes_job_template_file_is_used_and_the_job_env_is_added(tmp_path):
    template = tmp_path / "job.yaml"
    template.write_text(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  labels: {team: fleet}\nspec:\n  template:\n    spec:\n"
        "      restartPolicy: Never\n      containers:\n      - name: agent\n        image: custom/agent:7\n"
        "        env:\n        - {name: LOG_LEVEL, value: debug}\n"
    )
    with serve_kubernetes() as (fake, url):
        runner = KubernetesRunner(namespace="fleet-agents", template_path=str(template), api_url=url, poll_interval=0)
        runner.check()
        runner.dispatch(job())
        created = fake.jobs[("fleet-agents", job_name(job()))]["job"]
    container = created["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "custom/agent:7"
    assert created["metadata"]["labels"]["team"] == "fleet"
    names = [e["name"] for e in container["env"]]
    assert names[0] == "LOG_LEVEL" and "FLEETUI_REPO" in names


def test_kubernetes_job_names_are_valid_and_differ_per_try():
    first, second = job_name(job(key="12:345:1")), job_name(job(key="12:345:2"))
    assert first != second
    assert len(first) <= 63 and first == first.lower()


def test_kubernetes_without_image_or_template_is_a_configuration_error():
    with pytest.raises(RunnerConfigurationError, match="FLEETUI_RUNNER_K8S_IMAGE"):
        KubernetesRunner(namespace="fleet-agents").check()
