"""Rerun as a Kubernetes Job, created with the official client and watched until it ends.

The Job's name is derived from the batch, the item and the try, so creating it twice is
harmless: a 409 AlreadyExists means the run was already dispatched, and the runner only
watches it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings

from runs.reruns.runners.base import (
    PermanentRunnerError,
    RunJob,
    Runner,
    RunnerConfigurationError,
    RunResult,
    StartedCallback,
    TransientRunnerError,
    job_name,
)
from runs.reruns.runners.environment import job_variables, operator_variables, secret_refuse

REQUEST_TIMEOUT = (5, 30)


def default_template(image: str) -> dict[str, Any]:
    """The Job used when no template file is configured: one container, no retries inside Kubernetes."""
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"labels": {"app.kubernetes.io/managed-by": "fleetui"}},
        "spec": {
            "backoffLimit": 0,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/managed-by": "fleetui"}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "agent", "image": image}]},
            },
        },
    }


def job_manifest(template: dict[str, Any], job: RunJob, *, name: str, namespace: str) -> dict[str, Any]:
    """The template filled for one job: name, namespace, labels, and the job (plus what the operator passes)
    in every container's env."""
    body = copy.deepcopy(template)
    meta = body.setdefault("metadata", {})
    meta["name"] = name
    meta["namespace"] = namespace
    labels = meta.setdefault("labels", {})
    labels.update({"fleetui/batch": str(job.batch_id), "fleetui/item": str(job.item_id)})
    # The pod's basics (PATH, HOME) come from its image; the server's own environment is never copied in.
    variables = {**operator_variables(), **job_variables(job), "FLEETUI_PROMPT": job.prompt_text}
    env = [{"name": name, "value": value} for name, value in variables.items()]
    containers = body.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []
    if not containers:
        raise RunnerConfigurationError("the Kubernetes Job template has no containers")
    for container in containers:
        container["env"] = [e for e in container.get("env") or [] if e.get("name") not in variables] + env
        secret_refuse(
            {e.get("name", ""): e.get("value") for e in container["env"] if isinstance(e, dict)},
            where="the Kubernetes Job's env",
        )
    return body


def load_template(path: str, image: str) -> dict[str, Any]:
    if not path:
        if not image:
            raise RunnerConfigurationError("set FLEETUI_RUNNER_K8S_IMAGE or FLEETUI_RUNNER_K8S_TEMPLATE")
        return default_template(image)
    import yaml

    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RunnerConfigurationError(f"cannot read FLEETUI_RUNNER_K8S_TEMPLATE {path}: {exc}") from None
    if not isinstance(loaded, dict) or loaded.get("kind") != "Job":
        raise RunnerConfigurationError("FLEETUI_RUNNER_K8S_TEMPLATE must hold one batch/v1 Job")
    if image:
        for container in loaded.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []:
            container.setdefault("image", image)
    return loaded


class KubernetesRunner(Runner):
    """Creates one Job per try and polls its status until it succeeds, fails or times out."""

    name = "kubernetes"

    def __init__(
        self,
        *,
        namespace: str,
        template: dict[str, Any] | None = None,
        template_path: str = "",
        image: str = "",
        api_url: str = "",
        run_timeout: float = 3600.0,
        poll_interval: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.namespace = namespace
        self.template = template
        self.template_path = template_path
        self.image = image
        self.api_url = api_url
        self.run_timeout = run_timeout
        self.poll_interval = poll_interval
        self.sleep = sleep
        self._api = None

    @classmethod
    def from_settings(cls) -> KubernetesRunner:
        return cls(
            namespace=settings.FLEETUI_RUNNER_K8S_NAMESPACE,
            template_path=settings.FLEETUI_RUNNER_K8S_TEMPLATE,
            image=settings.FLEETUI_RUNNER_K8S_IMAGE,
            api_url=settings.FLEETUI_RUNNER_K8S_API_URL,
            run_timeout=settings.FLEETUI_RUNNER_TIMEOUT,
        )

    def check(self) -> None:
        if self.template is None:
            self.template = load_template(self.template_path, self.image)
        if not self.namespace:
            raise RunnerConfigurationError("FLEETUI_RUNNER_K8S_NAMESPACE is empty")
        operator_variables()

    def batch_api(self):
        if self._api is None:
            from kubernetes import client, config

            if self.api_url:
                configuration = client.Configuration()
                configuration.host = self.api_url.rstrip("/")
                configuration.retries = False
            else:
                configuration = client.Configuration()
                try:
                    config.load_incluster_config(client_configuration=configuration)
                except config.ConfigException:
                    config.load_kube_config(client_configuration=configuration)
            self._api = client.BatchV1Api(client.ApiClient(configuration))
        return self._api

    def reference(self, job: RunJob) -> str:
        return f"job/{self.namespace}/{job_name(job)}"

    def dispatch(self, job: RunJob, *, on_started: StartedCallback | None = None) -> RunResult:
        if self.template is None:
            self.check()
        name = job_name(job)
        ref = self.reference(job)
        body = job_manifest(self.template or {}, job, name=name, namespace=self.namespace)
        api = self.batch_api()
        try:
            api.create_namespaced_job(self.namespace, body, _request_timeout=REQUEST_TIMEOUT)
        except Exception as exc:
            # 409: a Job of this name exists, so this try was dispatched before; follow it.
            if _status(exc) != 409:
                raise _runner_error(exc, "creating the Job") from None
        if on_started is not None:
            on_started(ref)
        deadline = time.monotonic() + self.run_timeout
        while True:
            try:
                job_status = api.read_namespaced_job_status(name, self.namespace, _request_timeout=REQUEST_TIMEOUT)
            except Exception as exc:
                raise _runner_error(exc, "reading the Job status") from None
            state, reason = _job_state(job_status.status)
            if state != "running":
                return RunResult(state=state, runner_ref=ref, error=reason if state == "failed" else "")
            if time.monotonic() >= deadline:
                return RunResult(state="failed", runner_ref=ref, error=f"timed out after {self.run_timeout:g} s")
            self.sleep(self.poll_interval)


def _job_state(status) -> tuple[str, str]:
    if status is None:
        return "running", ""
    for condition in status.conditions or []:
        if condition.status != "True":
            continue
        if condition.type in ("Complete", "SuccessCriteriaMet"):
            return "succeeded", ""
        if condition.type in ("Failed", "FailureTarget"):
            return "failed", f"{condition.reason or 'Failed'}: {condition.message or 'the Job failed'}"
    if status.succeeded:
        return "succeeded", ""
    if status.failed:
        return "failed", "the Job's pod failed"
    return "running", ""


def _status(exc: Exception) -> int | None:
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None


def _runner_error(exc: Exception, doing: str) -> Exception:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    if isinstance(exc, ApiException):
        status = exc.status or 0
        message = f"{doing}: {exc.reason or ''} {str(exc.body or '')[:300]}".strip()
        if status == 429 or status >= 500 or status == 0:
            return TransientRunnerError(message, status=status or None, vendor="kubernetes")
        return PermanentRunnerError(message, status=status, vendor="kubernetes")
    if isinstance(exc, HTTPError | OSError | TimeoutError):
        return TransientRunnerError(f"{doing}: {exc}", vendor="kubernetes")
    return PermanentRunnerError(f"{doing}: {exc}", vendor="kubernetes")
