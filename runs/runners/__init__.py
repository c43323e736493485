"""Runner backends that rerun a repository: a local command, an HTTP service, a Kubernetes Job, or the demo."""

from django.conf import settings

from runs.runners.base import (
    PermanentRunnerError,
    RunJob,
    Runner,
    RunnerConfigurationError,
    RunResult,
    TransientRunnerError,
)

__all__ = [
    "PermanentRunnerError",
    "Runner",
    "RunnerConfigurationError",
    "RunJob",
    "RunResult",
    "TransientRunnerError",
    "runner_get",
]

BACKENDS = ("command", "http", "kubernetes", "demo")


def runner_get(name: str | None = None) -> Runner:
    """The configured runner (settings.FLEETUI_RUNNER), checked so a bad setting fails on first use."""
    name = name or settings.FLEETUI_RUNNER
    if name == "command":
        from runs.runners.command import CommandRunner

        runner: Runner = CommandRunner.from_settings()
    elif name == "http":
        from runs.runners.http import HttpRunner

        runner = HttpRunner.from_settings()
    elif name == "kubernetes":
        from runs.runners.kubernetes import KubernetesRunner

        runner = KubernetesRunner.from_settings()
    elif name == "demo":
        from runs.runners.demo import DemoRunner

        runner = DemoRunner.from_settings()
    else:
        raise RunnerConfigurationError(f"FLEETUI_RUNNER must be one of {', '.join(BACKENDS)}, not {name!r}")
    runner.check()
    return runner
