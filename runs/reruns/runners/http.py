"""Rerun through the user's own fleet service: a signed JSON job POSTed to FLEETUI_RUNNER_URL.

The service answers with the run's state. A finished state ends the dispatch; otherwise the
runner polls the `status_url` it returned, or, without one, leaves the item running until the
service calls back `POST /api/reruns/callback` signed the same way. The payload carries the job
and only the variables an operator passes on purpose (`environment.py`); the secret signs the
body and is never part of it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import requests
from django.conf import settings

from runs.reruns.runners.base import (
    PermanentRunnerError,
    RunJob,
    Runner,
    RunnerConfigurationError,
    RunResult,
    StartedCallback,
    TransientRunnerError,
    tail,
)
from runs.reruns.runners.environment import operator_variables

SIGNATURE_HEADER = "X-Fleetui-Signature"
FINISHED = {
    "succeeded": "succeeded",
    "success": "succeeded",
    "failed": "failed",
    "failure": "failed",
    "error": "failed",
}


def sign(secret: str, body: bytes) -> str:
    """The signature header value: `sha256=` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str) -> bool:
    """Whether `header` signs `body` with `secret`, compared in constant time."""
    if not secret or not header:
        return False
    # Compared as bytes: a header of non-ASCII text is simply a wrong signature, never an error.
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode("utf-8", "surrogateescape"))


def job_payload(job: RunJob) -> dict[str, Any]:
    """The job as sent: what to run, and in `env` only what the operator passes to the agent on purpose."""
    return {
        "batch": job.batch_id,
        "item": job.item_id,
        "repo": job.repo,
        "migration": job.migration,
        "prompt_revision": job.prompt_revision,
        "prompt": job.prompt_text,
        "attempt": job.attempt,
        "idempotency_key": job.idempotency_key,
        "env": operator_variables(),
    }


class HttpRunner(Runner):
    """POSTs each job to the fleet service and follows it to the end."""

    name = "http"

    def __init__(
        self,
        *,
        url: str,
        secret: str,
        timeout: float = 10.0,
        run_timeout: float = 3600.0,
        poll_interval: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.run_timeout = run_timeout
        self.poll_interval = poll_interval
        self.sleep = sleep
        self.session = session or requests.Session()

    @classmethod
    def from_settings(cls) -> HttpRunner:
        return cls(
            url=settings.FLEETUI_RUNNER_URL,
            secret=settings.FLEETUI_RUNNER_SECRET,
            run_timeout=settings.FLEETUI_RUNNER_TIMEOUT,
        )

    def check(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise RunnerConfigurationError("FLEETUI_RUNNER_URL must be an http:// or https:// address")
        if not self.secret:
            raise RunnerConfigurationError("FLEETUI_RUNNER_SECRET must be set to sign the jobs sent to the runner")
        operator_variables()

    def reference(self, job: RunJob) -> str:
        return f"idempotency-key:{job.idempotency_key}"

    def dispatch(self, job: RunJob, *, on_started: StartedCallback | None = None) -> RunResult:
        body = json.dumps(job_payload(job), separators=(",", ":")).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secret, body),
            "Idempotency-Key": job.idempotency_key,
        }
        answer = self._call("POST", self.url, data=body, headers=headers)
        ref = str(answer.get("id") or answer.get("status_url") or self.reference(job))[:300]
        if on_started is not None:
            on_started(ref)
        status_url = answer.get("status_url") or ""
        deadline = time.monotonic() + self.run_timeout
        while True:
            result = _result(answer, ref)
            if result.finished or not status_url:
                return result
            if time.monotonic() >= deadline:
                return RunResult(state="failed", runner_ref=ref, error=f"timed out after {self.run_timeout:g} s")
            self.sleep(self.poll_interval)
            answer = self._call("GET", status_url, headers={SIGNATURE_HEADER: sign(self.secret, b"")})

    def _call(self, method: str, url: str, **kwargs) -> dict[str, Any]:
        try:
            response = self.session.request(method, url, timeout=self.timeout, allow_redirects=False, **kwargs)
        except requests.Timeout as exc:
            raise TransientRunnerError(f"timed out: {exc}", vendor="runner") from None
        except requests.ConnectionError as exc:
            raise TransientRunnerError(f"connection failed: {exc}", vendor="runner") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientRunnerError(response.text[:300], status=response.status_code, vendor="runner")
        if response.status_code >= 300:
            raise PermanentRunnerError(response.text[:300], status=response.status_code, vendor="runner")
        try:
            answer = response.json()
        except ValueError:
            raise PermanentRunnerError("the answer is not JSON", status=response.status_code, vendor="runner") from None
        if not isinstance(answer, dict):
            raise PermanentRunnerError("the answer is not a JSON object", status=response.status_code, vendor="runner")
        return answer


def _result(answer: dict[str, Any], ref: str) -> RunResult:
    state = FINISHED.get(str(answer.get("status", "")).lower(), "running")
    exit_code = answer.get("exit_code")
    return RunResult(
        state=state,
        runner_ref=ref,
        exit_code=exit_code if isinstance(exit_code, int) else None,
        output_tail=tail(str(answer.get("output") or "")),
        error=str(answer.get("error") or "")[:2000] if state == "failed" else "",
    )
