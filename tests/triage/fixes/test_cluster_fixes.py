"""How a cluster was fixed elsewhere, through real MLflow traces: imported, clustered, then read back on demand."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.urls import reverse

from fleetui.common.roles import MIGRATION_OWNER, ROLES, VIEWER
from runs.demo.tracing import experiment, fleet_tags, tracking, write_trace
from runs.fleet.models import Attempt, Migration
from runs.imports import mlflow as mlflow_client
from runs.imports.services import import_run_execute
from tests.factories import make_api_token, make_user
from tests.mlflow_support import free_port, verify_span
from triage.clusters.fixes.edits import MAX_TEXT
from triage.clusters.fixes.prompt import fix_example_from_param
from triage.clusters.models import ClusterMember
from triage.clusters.services import clusters_rebuild

pytestmark = pytest.mark.django_db(transaction=True)

WORKSPACE = "/home/runner/_work/{name}/{name}"
PYTEST_IMPORT_ERROR = """============================= test session starts ==============================
platform linux -- Python 3.12.7, pytest-8.3.3, pluggy-1.5.0
rootdir: {workspace}
collected 438 items / 1 error

==================================== ERRORS ====================================
_______________ ERROR collecting tests/unit/test_logging.py _______________
ImportError while importing test module '{workspace}/tests/unit/test_logging.py'.
Hint: make sure your test modules/packages have valid Python names.
Traceback:
/usr/lib/python3.12/importlib/__init__.py:90: in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
tests/unit/test_logging.py:3: in <module>
    import structlog
E   ModuleNotFoundError: No module named 'structlog'
=========================== short test summary info ============================
ERROR tests/unit/test_logging.py
!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!
=============================== 1 error in 2.31s ===============================
"""
HOSTILE = "<script>alert('edit')</script>"


@pytest.fixture(autouse=True)
def role_groups_and_empty_cache():
    """The role groups a data migration makes (an earlier test may have flushed them), and no cached edits."""
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    cache.clear()
    yield
    cache.clear()


def _failed(name: str) -> dict:
    return verify_span("pytest", passed=False, output=PYTEST_IMPORT_ERROR.format(workspace=WORKSPACE.format(name=name)))


def _edit(name: str, path: str, old: str, new: str) -> dict:
    inputs = {"file_path": f"{WORKSPACE.format(name=name)}/{path}", "old_string": old, "new_string": new}
    return {"name": "tool_Edit", "type": "TOOL", "inputs": inputs, "outputs": {"result": "The file has been updated."}}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """structured-logging: acme/jobs failed then passed after adding structlog; acme/etl and acme/tools still fail.

    python-3-12: acme/ml failed the same way and then passed by another edit.
    """
    uri = f"sqlite:///{tmp_path_factory.mktemp('fixes') / 'mlflow.db'}"
    ids = {}
    with tracking(uri):
        logging_exp = experiment("fleet/structured-logging")
        python_exp = experiment("fleet/python-3-12")
        now = 1_760_000_000_000
        for number, name in enumerate(("etl", "tools"), start=1):
            write_trace(
                experiment_id=logging_exp,
                tags=fleet_tags("structured-logging", f"acme/{name}"),
                spans=[_failed(name)],
                start_ms=now + number * 1000,
            )
        write_trace(
            experiment_id=logging_exp,
            tags=fleet_tags("structured-logging", "acme/jobs"),
            spans=[_failed("jobs")],
            start_ms=now,
        )
        ids["jobs"] = write_trace(
            experiment_id=logging_exp,
            tags=fleet_tags("structured-logging", "acme/jobs", attempt=2),
            spans=[
                _edit("jobs", "README.md", "Logging: stdlib", f"Logging: structured {HOSTILE}"),
                _edit(
                    "jobs", "requirements.txt", "pytest==8.3.3\n", "pytest==8.3.3\nstructlog==24.1.0\n" + "#" * 300_000
                ),
                _edit("jobs", "app/log.py", "import logging\n", f"import structlog\n{HOSTILE}\n"),
                verify_span("pytest", passed=True, output="438 passed in 12.01s"),
            ],
            start_ms=now + 3_600_000,
        )
        write_trace(
            experiment_id=python_exp,
            tags=fleet_tags("python-3-12", "acme/ml"),
            spans=[_failed("ml")],
            start_ms=now,
        )
        ids["ml"] = write_trace(
            experiment_id=python_exp,
            tags=fleet_tags("python-3-12", "acme/ml", attempt=2),
            spans=[
                _edit("ml", "pyproject.toml", "dependencies = [\n", 'dependencies = [\n  "structlog>=24",\n'),
                verify_span("pytest", passed=True, output="12 passed"),
            ],
            start_ms=now + 7_200_000,
        )
    return uri, ids


@pytest.fixture
def fleet(store, settings):
    """The traces imported and clustered."""
    uri, ids = store
    settings.MLFLOW_TRACKING_URI = uri
    run = import_run_execute(tracking_uri=uri, trigger="test")
    assert run.errors == 0
    for slug in ("structured-logging", "python-3-12"):
        clusters_rebuild(migration=Migration.objects.get(slug=slug), threshold=0.8)
    cluster = ClusterMember.objects.get(repository__full_name="acme/etl").cluster
    return type("Fleet", (), {"uri": uri, "ids": ids, "cluster": cluster})


def _api(client, path: str):
    headers = {"Authorization": f"Bearer {make_api_token(make_user(role=VIEWER))}"}
    return client.get(path, headers=headers)


def test_a_repository_that_passed_on_a_later_attempt_shows_the_edits_that_touched_the_cause(client, fleet):
    response = _api(client, f"/api/clusters/{fleet.cluster.pk}/fixes")

    assert response.status_code == 200
    fixes = response.json()
    assert [(f["repo"], f["migration"], f["attempt"]) for f in fixes] == [
        ("acme/jobs", "structured-logging", 2),
        ("acme/ml", "python-3-12", 2),
    ]
    jobs = fixes[0]
    assert jobs["trace_id"] == fleet.ids["jobs"] and jobs["touches_cause"] is True
    files = [edit["file"].rsplit("/", 1)[-1] for edit in jobs["edits"]]
    assert set(files) == {"requirements.txt", "log.py"}  # the README edit names nothing of the cause
    requirements = next(e for e in jobs["edits"] if e["file"].endswith("requirements.txt"))
    assert requirements["before"] == "pytest==8.3.3\n" and "structlog==24.1.0" in requirements["after"]
    assert len(requirements["after"]) <= MAX_TEXT
    assert set(jobs) == {"repo", "migration", "trace_id", "attempt", "touches_cause", "edits"}


def test_a_cluster_nobody_fixed_answers_an_empty_list_and_an_unknown_one_404(client, fleet):
    Attempt.objects.filter(outcome="succeeded").update(outcome="verify_failed")

    assert _api(client, f"/api/clusters/{fleet.cluster.pk}/fixes").json() == []
    assert _api(client, "/api/clusters/999999/fixes").status_code == 404


def test_the_cluster_page_shows_the_fixes_as_escaped_diffs_with_a_link_to_use_one_in_the_prompt(client, fleet):
    client.force_login(make_user(role=MIGRATION_OWNER))

    html = client.get(reverse("cluster-detail", args=[fleet.cluster.pk])).content.decode()

    assert "How it was fixed elsewhere" in html
    assert "+structlog==24.1.0" in html and "in python-3-12" in html
    assert HOSTILE not in html and "&lt;script&gt;alert(&#x27;edit&#x27;)&lt;/script&gt;" in html
    assert reverse("attempt-detail", args=[fleet.ids["jobs"]]) in html
    link = f"{reverse('rerun-new', args=['structured-logging'])}?cluster={fleet.cluster.pk}&amp;example={fleet.cluster.pk}:{fleet.ids['jobs']}"
    assert link in html
    assert html.count("#" * 4000) == 0  # the 300 000-character line is capped in the diff


def test_a_viewer_sees_the_fixes_but_no_prompt_link(client, fleet):
    client.force_login(make_user(role=VIEWER))

    html = client.get(reverse("cluster-detail", args=[fleet.cluster.pk])).content.decode()

    assert "+structlog==24.1.0" in html and "data-use-example" not in html


def test_the_worked_example_names_its_source_and_carries_the_diff(fleet):
    migration_id = fleet.cluster.migration_id
    param = f"{fleet.cluster.pk}:{fleet.ids['jobs']}"

    text = fix_example_from_param(param, migration_id=migration_id)

    assert text.startswith(
        f"Worked example (from acme/jobs, attempt 2 of structured-logging, trace {fleet.ids['jobs']})"
    )
    assert "+structlog==24.1.0" in text and "requirements.txt" in text and len(text) <= 6_100
    assert fix_example_from_param(param, migration_id=migration_id + 1000) == ""
    assert fix_example_from_param(f"{fleet.cluster.pk}:tr-not-a-fix", migration_id=migration_id) == ""
    assert fix_example_from_param("1:<script>", migration_id=migration_id) == ""


def test_edits_are_read_from_mlflow_once_then_from_the_cache(client, fleet, monkeypatch):
    loads = []
    original = mlflow_client.TraceSource.load

    def counting(self, trace_ids):
        loads.append(sorted(trace_ids))
        return original(self, trace_ids)

    monkeypatch.setattr(mlflow_client.TraceSource, "load", counting)

    first = _api(client, f"/api/clusters/{fleet.cluster.pk}/fixes").json()
    second = _api(client, f"/api/clusters/{fleet.cluster.pk}/fixes").json()

    assert first == second and len(first) == 2
    assert loads == [sorted(fleet.ids.values())]


def test_an_unreachable_mlflow_answers_503_and_the_page_says_so(client, fleet, settings):
    settings.MLFLOW_TRACKING_URI = f"http://127.0.0.1:{free_port()}"
    client.force_login(make_user(role=VIEWER))

    response = _api(client, f"/api/clusters/{fleet.cluster.pk}/fixes")
    page = client.get(reverse("cluster-detail", args=[fleet.cluster.pk]))

    assert response.status_code == 503 and "MLflow could not" in response.json()["error"]
    assert page.status_code == 200 and "data-fixes-error" in page.content.decode()


def test_the_openapi_document_describes_the_fixes_endpoint(client):
    doc = _api(client, "/api/openapi.json").json()

    operation = doc["paths"]["/clusters/{id}/fixes"]["get"]
    assert operation["operationId"] == "cluster_fixes"
    assert {"200", "404", "503"} <= set(operation["responses"])
    fix = doc["components"]["schemas"]["ClusterFix"]
    assert set(fix["required"]) == {"repo", "migration", "trace_id", "attempt", "touches_cause", "edits"}
