"""Fixtures of the import tests: one real MLflow store per module, written through MLflow's tracing API, and an
experiment of its own for each test."""

import pytest

from runs.demo.tracing import experiment, tracking


@pytest.fixture(scope="module")
def store_uri(tmp_path_factory):
    uri = f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"
    with tracking(uri):
        yield uri


@pytest.fixture
def exp(store_uri, request):
    return experiment(f"{request.module.__name__.rpartition('.')[2]}/{request.node.name}")


@pytest.fixture
def github_com(settings):
    """Pull request links are checked against public GitHub."""
    settings.GITHUB_API_URL = "https://api.github.com"
    settings.GITHUB_WEB_URL = ""
