"""The runner interface: send one repository back to the agent and report how the run ended."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fleetui.common.errors import PermanentAPIError, TransientAPIError

OUTPUT_TAIL_CHARS = 4000


class RunnerConfigurationError(Exception):
    """The runner's settings are missing or wrong; nothing can be dispatched until they are fixed."""


class TransientRunnerError(TransientAPIError):
    """The dispatch failed for a reason that may pass: worth another try after a pause."""


class PermanentRunnerError(PermanentAPIError):
    """The dispatch was refused; trying the same job again will fail the same way."""


@dataclass(frozen=True)
class RunJob:
    """Everything a runner needs to rerun one repository."""

    batch_id: int
    item_id: int
    repo: str
    migration: str
    prompt_revision: int | None
    prompt_text: str
    attempt: int
    idempotency_key: str


@dataclass(frozen=True)
class RunResult:
    """How a dispatch ended: `state` is succeeded, failed, or running (finished later by a callback)."""

    state: str
    runner_ref: str = ""
    exit_code: int | None = None
    output_tail: str = ""
    error: str = ""

    @property
    def finished(self) -> bool:
        return self.state in ("succeeded", "failed")


# Called with the runner reference once the run has certainly started (process spawned, Job created).
StartedCallback = Callable[[str], None]


class Runner:
    """One backend; `dispatch` blocks until the run ends, or returns `running` when the end comes by callback."""

    name = "base"

    def reference(self, job: RunJob) -> str:
        """The reference recorded before dispatching, when the backend can name the run in advance."""
        return ""

    def check(self) -> None:
        """Raise RunnerConfigurationError when the settings cannot work."""

    def dispatch(self, job: RunJob, *, on_started: StartedCallback | None = None) -> RunResult:
        raise NotImplementedError


def tail(text: str, limit: int = OUTPUT_TAIL_CHARS) -> str:
    """The last `limit` characters, where the reason a run failed usually is."""
    return text if len(text) <= limit else "…" + text[-limit:]


def job_name(job: RunJob, prefix: str = "fleetui-rerun") -> str:
    """A deterministic name for the try, valid as a Kubernetes object name (lower case, at most 63 characters)."""
    return f"{prefix}-{job.batch_id}-{job.item_id}-{job.idempotency_key.rsplit(':', 1)[-1]}"[:63].rstrip("-")
