"""Rerun by running a local command: a template split like a shell splits words, then filled per argument.

The template is split with `shlex.split` BEFORE the placeholders are filled, and the process is
started from the argument list without a shell, so a repository name stays one argument whatever
characters it holds. The process gets an allow-listed environment (`environment.py`), never the
server's own.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import tempfile
from string import Formatter

from django.conf import settings

from runs.reruns.runners.base import (
    RunJob,
    Runner,
    RunnerConfigurationError,
    RunResult,
    StartedCallback,
    TransientRunnerError,
    tail,
)
from runs.reruns.runners.environment import command_environment, operator_variables

PLACEHOLDERS = ("repo", "migration", "prompt_file", "attempt", "prompt_revision", "batch", "item", "idempotency_key")


def parse_template(template: str) -> list[str]:
    """Split the template into arguments and check every placeholder is known."""
    if not template.strip():
        raise RunnerConfigurationError(
            "FLEETUI_RUNNER_COMMAND is empty; set it to the command that reruns a repository"
        )
    try:
        args = shlex.split(template)
    except ValueError as exc:
        raise RunnerConfigurationError(f"FLEETUI_RUNNER_COMMAND cannot be split into arguments: {exc}") from None
    for arg in args:
        try:
            fields = list(Formatter().parse(arg))
        except ValueError as exc:
            raise RunnerConfigurationError(f"FLEETUI_RUNNER_COMMAND argument {arg!r}: {exc}") from None
        for _, name, spec, conversion in fields:
            if name is None:
                continue
            if name not in PLACEHOLDERS or spec or conversion:
                raise RunnerConfigurationError(
                    f"FLEETUI_RUNNER_COMMAND has an unknown placeholder {{{name}}}; "
                    f"known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
                )
    return args


class CommandRunner(Runner):
    """Runs the configured command once per repository and waits for it, with a timeout."""

    name = "command"

    def __init__(self, *, template: str, timeout: float) -> None:
        self.template = template
        self.timeout = timeout
        self._args: list[str] | None = None

    @classmethod
    def from_settings(cls) -> CommandRunner:
        return cls(template=settings.FLEETUI_RUNNER_COMMAND, timeout=settings.FLEETUI_RUNNER_TIMEOUT)

    def check(self) -> None:
        self._args = parse_template(self.template)
        operator_variables()

    def arguments(self, job: RunJob, prompt_file: str) -> list[str]:
        """The argument list for a job: each template argument filled in on its own."""
        if self._args is None:
            self.check()
        values = {
            "repo": job.repo,
            "migration": job.migration,
            "prompt_file": prompt_file,
            "attempt": str(job.attempt),
            "prompt_revision": "" if job.prompt_revision is None else str(job.prompt_revision),
            "batch": str(job.batch_id),
            "item": str(job.item_id),
            "idempotency_key": job.idempotency_key,
        }
        return [arg.format_map(values) for arg in self._args or []]

    def dispatch(self, job: RunJob, *, on_started: StartedCallback | None = None) -> RunResult:
        with tempfile.TemporaryDirectory(prefix="fleetui-rerun-") as tmp:
            prompt_file = os.path.join(tmp, "prompt.md")
            with open(prompt_file, "w", encoding="utf-8") as handle:
                handle.write(job.prompt_text)
            argv = self.arguments(job, prompt_file)
            # An allow-list, never the server's environment: the agent must not see the server's secrets.
            env = command_environment(job)
            try:
                # Its own session, so a timeout can stop the command and everything it started.
                process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
            except FileNotFoundError:
                raise RunnerConfigurationError(f"the rerun command {argv[0]!r} was not found") from None
            except OSError as exc:
                raise TransientRunnerError(f"could not start the rerun command: {exc}") from None
            ref = f"pid:{process.pid}"
            if on_started is not None:
                on_started(ref)
            try:
                output, _ = process.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                _kill_group(process)
                output, _ = process.communicate()
                text = output.decode("utf-8", "replace")
                return RunResult(
                    state="failed",
                    runner_ref=ref,
                    exit_code=process.returncode,
                    output_tail=tail(text),
                    error=f"timed out after {self.timeout:g} s",
                )
        text = output.decode("utf-8", "replace")
        if process.returncode == 0:
            return RunResult(state="succeeded", runner_ref=ref, exit_code=0, output_tail=tail(text))
        return RunResult(
            state="failed",
            runner_ref=ref,
            exit_code=process.returncode,
            output_tail=tail(text),
            error=f"exited with code {process.returncode}",
        )


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
