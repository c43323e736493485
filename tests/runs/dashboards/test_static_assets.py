"""Static files: plotly only on pages with charts; with the manifest storage, hashed names cached for a long time."""

import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from fleetui.common.roles import VIEWER
from runs.fleet.models import Outcome
from tests.factories import make_attempt, make_migration, make_repo, make_user, make_verifier_result

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
