"""The agent gets an allow-listed environment: no server secret reaches it through any runner."""

import json
import sys

import pytest
from django.test import Client

from fleetui.common.roles import MIGRATION_OWNER, VIEWER
from runs.fleet.models import Outcome
from runs.reruns.dispatch import rerun_item_execute
from runs.reruns.models import RerunState
from runs.reruns.runners.base import RunJob, RunnerConfigurationError, job_name
from runs.reruns.runners.command import CommandRunner
from runs.reruns.runners.http import HttpRunner
from runs.reruns.runners.kubernetes import KubernetesRunner
from runs.reruns.services import rerun_batch_create
from tests.factories import make_attempt, make_migration, make_repo, make_user
from tests.fakes.kubernetes import serve_kubernetes
from tests.fakes.runner_http import serve_fleet_service

# What a production server holds in its environment, each value easy to find in any output.
SECRETS = {
    "DJANGO_SECRET_KEY": "django-secret-5f1e0c9a7b",
    "GITHUB_TOKEN": "ghp_servertoken0123456789",
    "SLACK_BOT_TOKEN": "xoxb-server-slack-4242",
    "FLEETUI_RUNNER_SECRET": "runner-hmac-secret-77",
    "GITHUB_WEBHOOK_SECRET": "webhook-secret-31337",
    "BACKSTAGE_TOKEN": "backstage-token-8080",
    "DATABASE_URL": "postgres://fleetui:db-password-2718@db.internal:5432/fleetui",
}
SETTING_OF = {
    "DJANGO_SECRET_KEY": "SECRET_KEY",
    "GITHUB_TOKEN": "GITHUB_TOKEN",
    "SLACK_BOT_TOKEN": "SLACK_BOT_TOKEN",
    "FLEETUI_RUNNER_SECRET": "FLEETUI_RUNNER_SECRET",
    "GITHUB_WEBHOOK_SECRET": "GITHUB_WEBHOOK_SECRET",
    "BACKSTAGE_TOKEN": "BACKSTAGE_TOKEN",
}
# The agent prints its whole environment, one NAME=value per line, and also writes it to a file as JSON.
PRINT_ENV = "import json, os, sys; print('\\n'.join(f'{k}={v}' for k, v in sorted(os.environ.items())))"


@pytest.fixture
def server_secrets(monkeypatch, settings):
    """The server's environment and settings hold every secret, as in production."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
        if name in SETTING_OF:
            setattr(settings, SETTING_OF[name], value)
    settings.FLEETUI_RUNNER_ENV = {}
    settings.FLEETUI_RUNNER_PASS_ENV = []
    return SECRETS


def secret_fragments() -> list[str]:
    return [*SECRETS.values(), "db-password-2718"]


def job(**fields) -> RunJob:
    values = dict(
        batch_id=1,
        item_id=2,
        repo="acme/payments-api",
        migration="junit4-to-junit5",
        prompt_revision=3,
        prompt_text="Use JUnit 5 assertions.",
        attempt=2,
        idempotency_key="1:2:1",
    )
    values.update(fields)
    return RunJob(**values)


def agent_env(tmp_path) -> tuple[CommandRunner, object]:
    out = tmp_path / "env.json"
    script = tmp_path / "agent.py"
    script.write_text(
        f"{PRINT_ENV}\nimport pathlib; pathlib.Path(sys.argv[1]).write_text(json.dumps(dict(os.environ)))\n"
    )
    runner = CommandRunner(template=f"{sys.executable} {script} {out} {{repo}}", timeout=30)
    runner.check()
    return runner, out


def test_the_agent_process_sees_none_of_the_server_secrets(server_secrets, tmp_path):
    runner, out = agent_env(tmp_path)
    result = runner.dispatch(job())
    assert result.state == "succeeded", result.output_tail
    seen = json.loads(out.read_text())
    everything = out.read_text() + result.output_tail
    for fragment in secret_fragments():
        assert fragment not in everything
    assert not set(SECRETS) & set(seen)
    assert "PATH" in seen
    assert seen["FLEETUI_REPO"] == "acme/payments-api"
    assert seen["FLEETUI_ATTEMPT"] == "2" and seen["FLEETUI_PROMPT_REVISION"] == "3"
    assert "FLEETUI_REPO=acme/payments-api" in result.output_tail


def test_only_the_allow_listed_server_variables_reach_the_agent(server_secrets, monkeypatch, tmp_path):
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-server-credential")
    monkeypatch.setenv("SOME_SERVER_SETTING", "internal")
    runner, out = agent_env(tmp_path)
    runner.dispatch(job())
    seen = json.loads(out.read_text())
    assert seen["LANG"] == "C.UTF-8" and seen["LC_ALL"] == "C.UTF-8" and seen["TZ"] == "UTC"
    assert "AWS_SECRET_ACCESS_KEY" not in seen and "SOME_SERVER_SETTING" not in seen


def test_a_variable_the_operator_passes_arrives_under_its_own_name(server_secrets, monkeypatch, settings, tmp_path):
    monkeypatch.setenv("AGENT_MODEL", "claude-sonnet-4-5")
    settings.FLEETUI_RUNNER_ENV = {"ANTHROPIC_API_KEY": "sk-ant-agent-own-key", "GITHUB_TOKEN": "ghp_agent_own_token"}
    settings.FLEETUI_RUNNER_PASS_ENV = ["AGENT_MODEL", "NOT_SET_ANYWHERE"]
    runner, out = agent_env(tmp_path)
    runner.dispatch(job())
    seen = json.loads(out.read_text())
    assert seen["ANTHROPIC_API_KEY"] == "sk-ant-agent-own-key"
    assert seen["GITHUB_TOKEN"] == "ghp_agent_own_token"
    assert seen["AGENT_MODEL"] == "claude-sonnet-4-5"
    assert "NOT_SET_ANYWHERE" not in seen


def test_the_operator_prefix_is_read_from_the_server_environment_at_start_up(monkeypatch):
    import importlib

    import fleetui.settings as module

    monkeypatch.setenv("FLEETUI_RUNNER_ENV_ANTHROPIC_API_KEY", "sk-ant-agent-own-key")
    monkeypatch.setenv("FLEETUI_RUNNER_PASS_ENV", "AGENT_MODEL, HTTPS_PROXY")
    try:
        reloaded = importlib.reload(module)
        assert reloaded.FLEETUI_RUNNER_ENV["ANTHROPIC_API_KEY"] == "sk-ant-agent-own-key"
        assert reloaded.FLEETUI_RUNNER_PASS_ENV == ["AGENT_MODEL", "HTTPS_PROXY"]
    finally:
        monkeypatch.undo()
        importlib.reload(module)


def test_the_run_own_variables_win_over_what_the_operator_passes(server_secrets, settings, tmp_path):
    settings.FLEETUI_RUNNER_ENV = {"FLEETUI_REPO": "evil-org/other"}
    runner, out = agent_env(tmp_path)
    runner.dispatch(job())
    assert json.loads(out.read_text())["FLEETUI_REPO"] == "acme/payments-api"


@pytest.mark.parametrize("name", ["GITHUB_TOKEN", "DATABASE_URL", "DJANGO_SECRET_KEY"])
def test_passing_a_server_secret_by_name_is_refused_with_the_way_out(server_secrets, settings, tmp_path, name):
    settings.FLEETUI_RUNNER_PASS_ENV = [name]
    with pytest.raises(RunnerConfigurationError, match=f"FLEETUI_RUNNER_ENV_{name}"):
        agent_env(tmp_path)


@pytest.mark.parametrize(
    "value", ["ghp_servertoken0123456789", "token ghp_servertoken0123456789", "postgres://x:db-password-2718@h/d"]
)
def test_a_passed_value_holding_a_server_secret_is_refused(server_secrets, settings, tmp_path, value):
    settings.FLEETUI_RUNNER_ENV = {"AGENT_TOKEN": value}
    with pytest.raises(RunnerConfigurationError, match="AGENT_TOKEN") as refused:
        agent_env(tmp_path)
    assert value not in str(refused.value)


@pytest.mark.django_db
def test_a_rerun_item_run_by_the_command_runner_shows_viewers_no_secret(server_secrets, settings, tmp_path):
    migration = make_migration("junit5")
    make_attempt(migration, make_repo("acme/svc-0"), outcome=Outcome.VERIFY_FAILED)
    settings.FLEETUI_RUNNER = "command"
    script = tmp_path / "agent.py"
    script.write_text(PRINT_ENV)
    settings.FLEETUI_RUNNER_COMMAND = f"{sys.executable} {script} {{repo}}"
    batch = rerun_batch_create(migration=migration, user=make_user(role=MIGRATION_OWNER), repos=["acme/svc-0"])
    item = batch.items.get()
    rerun_item_execute(item_id=item.pk)
    item.refresh_from_db()
    assert item.state == RerunState.SUCCEEDED, item.error
    viewer = Client()
    viewer.force_login(make_user(role=VIEWER))
    page = viewer.get(f"/reruns/{batch.pk}/").content.decode()
    assert "FLEETUI_REPO=acme/svc-0" in page
    for fragment in secret_fragments():
        assert fragment not in item.output_tail and fragment not in page


def test_the_http_runner_sends_no_server_secret_and_carries_what_the_operator_passes(server_secrets, settings):
    settings.FLEETUI_RUNNER_ENV = {"ANTHROPIC_API_KEY": "sk-ant-agent-own-key"}
    with serve_fleet_service(SECRETS["FLEETUI_RUNNER_SECRET"]) as service:
        runner = HttpRunner(url=f"{service.url}/jobs", secret=SECRETS["FLEETUI_RUNNER_SECRET"])
        runner.check()
        assert runner.dispatch(job()).state == "succeeded"
    sent = json.dumps(service.posts)
    for fragment in secret_fragments():
        assert fragment not in sent
    assert service.posts[0]["job"]["env"] == {"ANTHROPIC_API_KEY": "sk-ant-agent-own-key"}


def test_the_kubernetes_job_env_has_no_server_secret_and_carries_what_the_operator_passes(server_secrets, settings):
    settings.FLEETUI_RUNNER_ENV = {"ANTHROPIC_API_KEY": "sk-ant-agent-own-key"}
    with serve_kubernetes() as (fake, url):
        runner = KubernetesRunner(
            namespace="fleet-agents", image="registry.local/agent:1", api_url=url, poll_interval=0
        )
        runner.check()
        assert runner.dispatch(job()).state == "succeeded"
        created = json.dumps(fake.jobs[("fleet-agents", job_name(job()))]["job"])
        env = fake.env_of(job_name(job()))
    for fragment in secret_fragments():
        assert fragment not in created
    assert env["ANTHROPIC_API_KEY"] == "sk-ant-agent-own-key"
    assert env["FLEETUI_REPO"] == "acme/payments-api" and env["FLEETUI_PROMPT"] == "Use JUnit 5 assertions."
    assert "PATH" not in env and "HOME" not in env


def test_a_kubernetes_template_that_puts_a_server_secret_in_the_env_is_refused(server_secrets, tmp_path):
    template = tmp_path / "job.yaml"
    template.write_text(
        "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n"
        "      containers:\n      - name: agent\n        image: custom/agent:7\n"
        f"        env:\n        - {{name: GH, value: {SECRETS['GITHUB_TOKEN']}}}\n"
    )
    with serve_kubernetes() as (fake, url):
        runner = KubernetesRunner(namespace="fleet-agents", template_path=str(template), api_url=url, poll_interval=0)
        runner.check()
        with pytest.raises(RunnerConfigurationError, match="GH holds one of the server's secrets"):
            runner.dispatch(job())
    assert not fake.jobs
