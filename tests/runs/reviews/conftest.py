"""Fixtures of the reviewer gate's tests."""

import pytest

from fleetui.celery import app as celery_app


@pytest.fixture
def eager_github(settings, fake_github):
    """Celery tasks run eagerly against the fake GitHub."""
    settings.GITHUB_API_URL = fake_github.url
    saved = celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield fake_github
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = saved
