"""What the agent is given: an allow-list of variables, never the server's secrets.

The agent is an LLM working on untrusted repositories, and the tail of its output is shown to
every viewer, so it starts from nothing and receives only:

- the basics a process needs (`PATH`, `HOME`, `LANG`, `LC_*`, `TZ`, `TMPDIR`), command runner only;
- what an operator passes on purpose: `FLEETUI_RUNNER_ENV_<NAME>=value` becomes `<NAME>=value`, and
  `FLEETUI_RUNNER_PASS_ENV=A,B` hands on the server's own `A` and `B`;
- the run's own variables (`FLEETUI_REPO`, `FLEETUI_MIGRATION`, `FLEETUI_ATTEMPT`, ...) and, for a
  local command, `MLFLOW_TRACKING_URI` so the new session is traced where fleetui reads.

A passed variable that names or holds one of the server's secrets is a configuration error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from django.conf import settings

from runs.reruns.runners.base import RunJob, RunnerConfigurationError

BASIC_NAMES = ("PATH", "HOME", "LANG", "TZ", "TMPDIR")
BASIC_PREFIXES = ("LC_",)

# The server's secrets by variable name, with the setting that holds each (None: read from the environment).
SERVER_SECRETS: dict[str, str | None] = {
    "DJANGO_SECRET_KEY": "SECRET_KEY",
    "GITHUB_TOKEN": "GITHUB_TOKEN",
    "GITHUB_WEBHOOK_SECRET": "GITHUB_WEBHOOK_SECRET",
    "SLACK_BOT_TOKEN": "SLACK_BOT_TOKEN",
    "BACKSTAGE_TOKEN": "BACKSTAGE_TOKEN",
    "FLEETUI_RUNNER_SECRET": "FLEETUI_RUNNER_SECRET",
    "DATABASE_URL": None,
    "REDIS_URL": "REDIS_URL",
    "CELERY_BROKER_URL": "CELERY_BROKER_URL",
}
URL_SECRETS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")
# Shorter values ("1", "true") would match by accident; no real secret is this short.
MIN_SECRET_LENGTH = 8


def job_variables(job: RunJob) -> dict[str, str]:
    """The run's own variables: which repository, migration, prompt revision and try this is."""
    return {
        "FLEETUI_REPO": job.repo,
        "FLEETUI_MIGRATION": job.migration,
        "FLEETUI_PROMPT_REVISION": "" if job.prompt_revision is None else str(job.prompt_revision),
        "FLEETUI_ATTEMPT": str(job.attempt),
        "FLEETUI_IDEMPOTENCY_KEY": job.idempotency_key,
    }


def server_secret_values(environ: Mapping[str, str] | None = None) -> set[str]:
    """Every secret the server holds (settings and environment), and the passwords inside its service URLs."""
    environ = os.environ if environ is None else environ
    found: set[str] = set()
    for name, setting in SERVER_SECRETS.items():
        values = [environ.get(name, "")]
        if setting is not None:
            values.append(str(getattr(settings, setting, "") or ""))
        for value in values:
            if name in URL_SECRETS:
                # A URL without a password (the embedded broker's file path) is no secret.
                password = _url_password(value)
                if password:
                    found.update({value, password})
            elif value:
                found.add(value)
    database_password = str(settings.DATABASES.get("default", {}).get("PASSWORD") or "")
    if database_password:
        found.add(database_password)
    return {value for value in found if len(value) >= MIN_SECRET_LENGTH}


def _url_password(url: str) -> str:
    if "://" not in url:
        return ""
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


def operator_variables(
    *,
    extra: Mapping[str, str] | None = None,
    pass_names: list[str] | tuple[str, ...] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The variables an operator passes on purpose, checked so that none is a server secret."""
    environ = os.environ if environ is None else environ
    extra = settings.FLEETUI_RUNNER_ENV if extra is None else extra
    pass_names = settings.FLEETUI_RUNNER_PASS_ENV if pass_names is None else pass_names
    for name in pass_names:
        if name in SERVER_SECRETS:
            raise RunnerConfigurationError(
                f"FLEETUI_RUNNER_PASS_ENV names {name}, a server secret the agent never receives; "
                f"give the agent its own value with FLEETUI_RUNNER_ENV_{name}=..."
            )
    passed = {name: environ[name] for name in pass_names if name in environ}
    passed.update(extra)
    secrets = server_secret_values(environ)
    for name, value in passed.items():
        if any(secret in value for secret in secrets):
            raise RunnerConfigurationError(
                f"the variable {name} passed to the agent holds one of the server's secrets; "
                "give the agent credentials of its own"
            )
    return passed


def basic_variables(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """PATH, HOME, LANG, LC_*, TZ and TMPDIR as the server has them."""
    environ = os.environ if environ is None else environ
    return {name: value for name, value in environ.items() if name in BASIC_NAMES or name.startswith(BASIC_PREFIXES)}


def tracking_variables() -> dict[str, str]:
    """Where the agent traces its session: the tracking URI fleetui imports from, unless it carries a password."""
    uri = settings.MLFLOW_TRACKING_URI
    if not uri or _url_password(uri):
        return {}
    return {"MLFLOW_TRACKING_URI": uri}


def command_environment(job: RunJob, *, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The whole environment of a local agent process; the run's own variables win over anything passed."""
    return {
        **basic_variables(environ),
        **tracking_variables(),
        **operator_variables(environ=environ),
        **job_variables(job),
    }


def secret_refuse(variables: Mapping[str, str], *, where: str) -> None:
    """Raise RunnerConfigurationError when any value holds a server secret (a last check before sending)."""
    secrets = server_secret_values()
    for name, value in variables.items():
        if isinstance(value, str) and any(secret in value for secret in secrets):
            raise RunnerConfigurationError(f"{where}: {name} holds one of the server's secrets; it is not sent")
