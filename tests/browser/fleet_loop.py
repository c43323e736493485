"""A small fleet for the browser walks: real MLflow traces, imported and clustered, and a worker that reruns them.

The rerun command is a tiny agent that writes its session into the same MLflow store: the repository named
FIXED passes once the prompt names Jakarta, every other repository fails the same way again.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.contrib.auth.models import Group

from fleetui.common.roles import MIGRATION_OWNER, REVIEWER, VIEWER
from runs.demo.tracing import experiment, fleet_tags, tracking, write_trace
from runs.fleet.models import Migration, Repository
from runs.imports.services import import_run_execute
from tests.celery_support import ROOT
from tests.factories import make_team, make_user
from tests.mlflow_support import verify_span
from triage.clusters.models import ClusteringRun, FailureCluster
from triage.clusters.services import clustering_run_execute

MIGRATION = "java-21"
PROMPT = "Migrate the service to Java 21.\nKeep the public API unchanged."
FIXED = "acme/payments-api"
STILL = ["acme/payments-ledger", "acme/payments-web"]
PASSING = ["acme/billing", "acme/checkout"]
PASSWORD = "browser-pass-1"

FAILURE = "\n".join(
    ["[INFO] Scanning for projects...", "[INFO] Building payments 1.0"]
    + [
        "[ERROR] COMPILATION ERROR :",
        "[ERROR] /src/main/java/com/acme/Api.java:[12,8] cannot find symbol",
        "[ERROR]   symbol:   class javax.annotation.Generated",
        "[INFO] BUILD FAILURE",
    ]
)

AGENT = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from runs.demo.tracing import experiment, fleet_tags, write_trace
from tests.mlflow_support import verify_span

repo, attempt, revision, prompt_file = sys.argv[1:5]
prompt = open(prompt_file, encoding="utf-8").read()
passed = repo == {FIXED!r} and "jakarta" in prompt.lower()
tags = fleet_tags(migration={MIGRATION!r}, repo=repo, attempt=int(attempt), prompt_rev=revision or "1")
output = "BUILD SUCCESS" if passed else {FAILURE!r}
write_trace(
    experiment_id=experiment("fleet/{MIGRATION}"),
    tags=tags,
    spans=[verify_span(passed=passed, output=output)],
    prompt=prompt,
)
print(("passed " if passed else "still failing ") + repo)
"""


def roles_present() -> None:
    """An earlier transactional test may have flushed the role groups the data migration made."""
    for role in (MIGRATION_OWNER, REVIEWER, VIEWER):
        Group.objects.get_or_create(name=role)


def write_fleet(uri: str) -> None:
    """First attempts through MLflow's tracing API: three repositories fail on one missing symbol, two pass."""
    with tracking(uri):
        exp = experiment(f"fleet/{MIGRATION}")
        for repo in [FIXED, *STILL]:
            write_trace(
                experiment_id=exp,
                tags=fleet_tags(migration=MIGRATION, repo=repo),
                spans=[verify_span(passed=False, output=FAILURE)],
                prompt=PROMPT,
            )
        for repo in PASSING:
            write_trace(
                experiment_id=exp, tags=fleet_tags(migration=MIGRATION, repo=repo), spans=[verify_span()], prompt=PROMPT
            )


def import_and_cluster(uri: str) -> tuple[Migration, FailureCluster]:
    """Import the store and build the clusters, as the worker's tasks would; the payments team owns the repos."""
    run = import_run_execute(tracking_uri=uri, trigger="test")
    assert run.status == "succeeded", run.message
    migration = Migration.objects.get(slug=MIGRATION)
    clustering = clustering_run_execute(migration_id=migration.pk, mode=ClusteringRun.Mode.FULL)
    assert clustering is not None and clustering.status == ClusteringRun.Status.SUCCEEDED
    team = make_team("payments", "Payments")
    Repository.objects.filter(full_name__startswith="acme/payments-").update(team=team)
    (cluster,) = FailureCluster.objects.filter(migration=migration)
    return migration, cluster


def agent_script(folder: Path) -> Path:
    script = folder / "agent.py"
    script.write_text(AGENT)
    return script


def runner_env(script: Path, uri: str) -> dict[str, str]:
    """What the worker needs to rerun with the agent and import what it wrote."""
    return {
        "MLFLOW_TRACKING_URI": uri,
        "FLEETUI_RUNNER": "command",
        "FLEETUI_RUNNER_COMMAND": f"{sys.executable} {script} {{repo}} {{attempt}} {{prompt_revision}} {{prompt_file}}",
        "FLEETUI_RUNNER_TIMEOUT": "60",
    }


def log_in(page, live_server, username: str, role: str) -> None:
    make_user(username, role=role, password=PASSWORD)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
