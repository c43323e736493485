"""Runner backends that rerun a repository: a local command, an HTTP service, a Kubernetes Job, or the demo."""

from django.conf import settings

from runs.reruns.runners.base import (
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
    # Each backend loads on first use: only one is configured, and some bring heavy clients (Kubernetes, MLflow).
    if name == "command":
        from runs.reruns.runners.command import CommandRunner

        runner: Runner = CommandRunner.from_settings()
    elif name == "http":
        from runs.reruns.runners.http import HttpRunner

        runner = HttpRunner.from_settings()
    elif name == "kubernetes":
        from runs.reruns.runners.kubernetes import KubernetesRunner

        runner = KubernetesRunner.from_settings()
    elif name == "demo":
        from runs.reruns.runners.demo import DemoRunner

        runner = DemoRunner.from_settings()
    else:
        raise RunnerConfigurationError(f"FLEETUI_RUNNER must be one of {', '.join(BACKENDS)}, not {name!r}")
    runner.check()
    return runner
