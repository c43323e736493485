"""Static files: plotly only on pages with charts; with the manifest storage, hashed names cached for a long time."""

import json
import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from fleetui.common.roles import VIEWER
from runs.fleet.models import Outcome, Phase, PullRequest
from tests.factories import (
    make_attempt,
    make_migration,
    make_prompt_revision,
    make_pull_request,
    make_repo,
    make_user,
    make_verifier_result,
)

pytestmark = pytest.mark.django_db

PLOTLY = re.compile(r'<script src="[^"]*plotly[^"]*"')
MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"
ONE_YEAR = 365 * 24 * 3600


def viewer_client() -> Client:
    client = Client()
    client.force_login(make_user(role=VIEWER))
    return client


def failed_attempt():
    attempt = make_attempt(make_migration("java-21"), make_repo("org/svc"), outcome=Outcome.VERIFY_FAILED)
    make_verifier_result(attempt, passed=False, kind="maven", snippet="cannot find symbol")
    return attempt


def test_pages_without_charts_do_not_load_plotly():
    attempt = failed_attempt()
    client = viewer_client()
    for url in (
        reverse("reviews"),
        reverse("migration-repos", args=[attempt.migration.slug]),
        reverse("attempt-detail", args=[attempt.trace_id]),
        reverse("activity"),
        reverse("login"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "fleetui.js" in html, url
        assert not PLOTLY.search(html), url


def test_the_migration_dashboard_loads_plotly_before_it_draws_its_charts():
    attempt = failed_attempt()
    html = viewer_client().get(reverse("migration-detail", args=[attempt.migration.slug])).content.decode()
    assert 'data-plotly="chart-funnel"' in html
    script = PLOTLY.search(html)
    assert script is not None
    assert "defer" in html[script.start() : html.index(">", script.start())]
    assert script.start() < html.index("fleetui.js")


def test_every_chart_uses_a_trace_type_of_the_vendored_plotly_bundle():
    migration = make_migration("java-21")
    revision = make_prompt_revision(migration, 2)
    ok = make_attempt(migration, make_repo("org/ok"), outcome=Outcome.SUCCEEDED, prompt_revision=revision)
    make_verifier_result(ok, passed=True, kind="gradle")
    make_pull_request(ok, state=PullRequest.State.MERGED)
    make_attempt(migration, make_repo("org/legacy"), phase=Phase.BASELINE, outcome=Outcome.VERIFY_FAILED)
    failed = make_attempt(migration, make_repo("org/bad"), outcome=Outcome.VERIFY_FAILED, prompt_revision=revision)
    make_verifier_result(failed, passed=False, kind="maven", snippet="cannot find symbol")
    client = viewer_client()
    pages = [reverse("home"), reverse("migration-detail", args=[migration.slug])]
    bundle = (settings.BASE_DIR / "static/vendor/plotly/README.md").read_text()
    bundled = set(re.search(r"holds the trace types (.*?);", bundle, re.S).group(1).replace("and", ",").split(","))
    bundled = {name.strip(" `\n") for name in bundled} - {""}
    assert {"bar", "funnel", "pie", "scatter"} <= bundled
    used = set()
    for url in pages:
        html = client.get(url).content.decode()
        for block in re.findall(r'<script id="[^"]+" type="application/json">(.*?)</script>', html, re.S):
            used |= {trace.get("type", "scatter") for trace in json.loads(block).get("data", [])}
    assert {"funnel", "bar"} <= used
    assert used <= bundled


@pytest.fixture
def manifest_static(settings, tmp_path):
    """The production storage: collectstatic writes hashed, compressed copies to a fresh STATIC_ROOT."""
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}
    settings.DEBUG = False
    call_command("collectstatic", interactive=False, verbosity=0)
    return settings.STATIC_ROOT


def test_with_the_manifest_storage_pages_name_hashed_files_that_browsers_keep_for_a_year(manifest_static):
    attempt = failed_attempt()
    html = viewer_client().get(reverse("migration-detail", args=[attempt.migration.slug])).content.decode()
    names = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    scripts = {re.sub(r"\.[0-9a-f]{12}\.", ".", name): name for name in names}
    assert {"/static/css/fleetui.css", "/static/js/fleetui.js", "/static/js/htmx.min.js"} <= scripts.keys()
    assert any("plotly" in name for name in scripts)
    assert all(hashed != plain for plain, hashed in scripts.items()), names

    browser = Client()
    for name in names:
        response = browser.get(name, HTTP_ACCEPT_ENCODING="gzip")
        assert response.status_code == 200, name
        cache = response["Cache-Control"]
        max_age = int(re.search(r"max-age=(\d+)", cache).group(1))
        assert max_age >= ONE_YEAR and "immutable" in cache, (name, cache)
        if name.endswith(".js"):
            assert response["Content-Encoding"] == "gzip", name


def test_a_file_asked_for_by_its_plain_name_is_kept_an_hour_only(manifest_static):
    response = Client().get("/static/js/fleetui.js")
    assert response.status_code == 200
    assert "max-age=3600" in response["Cache-Control"] and "immutable" not in response["Cache-Control"]
