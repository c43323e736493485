"""Fixtures of the MLflow write-back tests: a temp sqlite tracking store, eager tasks, the role groups."""

import pytest
from django.contrib.auth.models import Group

from fleetui.celery import app as celery_app
from fleetui.common.roles import ROLES
from runs.demo.tracing import experiment, tracking


@pytest.fixture(autouse=True)
def role_groups():
    """The role groups a data migration makes, again after an earlier test flushed the database."""
    for role in ROLES:
        Group.objects.get_or_create(name=role)


@pytest.fixture
def store(tmp_path, settings):
    """A real MLflow sqlite store that fleetui imports from and writes its labels to."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings.MLFLOW_TRACKING_URI = uri
    settings.MLFLOW_UI_URL = ""
    with tracking(uri):
        yield type("Store", (), {"uri": uri, "experiment_id": experiment("fleet/junit5")})


@pytest.fixture
def eager():
    """Celery tasks run in this process as soon as they are queued (after the commit)."""
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved


@pytest.fixture
def enabled(settings, eager):
    settings.MLFLOW_WRITEBACK = True
