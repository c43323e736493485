"""Real MLflow traces of two migrations where some repositories failed on a missing module and later passed."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache

from fleetui.common.roles import ROLES
from runs.demo.tracing import experiment, fleet_tags, tracking, write_trace
from runs.fleet.models import Migration
from runs.imports.services import import_run_execute
from tests.mlflow_support import verify_span
from triage.clusters.models import ClusterMember
from triage.clusters.services import clusters_rebuild

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


@pytest.fixture
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
def fleet(store, settings, role_groups_and_empty_cache):
    """The traces imported and clustered."""
    uri, ids = store
    settings.MLFLOW_TRACKING_URI = uri
    run = import_run_execute(tracking_uri=uri, trigger="test")
    assert run.errors == 0
    for slug in ("structured-logging", "python-3-12"):
        clusters_rebuild(migration=Migration.objects.get(slug=slug), threshold=0.8)
    cluster = ClusterMember.objects.get(repository__full_name="acme/etl").cluster
    return type("Fleet", (), {"uri": uri, "ids": ids, "cluster": cluster})
