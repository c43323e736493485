"""Server-rendered pages: access, content, filters, escaping, polling and query counts."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from fleetui.common.roles import ADMIN, MIGRATION_OWNER, REVIEWER, ROLES, VIEWER
from runs.fleet.models import Outcome, Phase
from runs.imports.models import ImportRun
from tests.factories import (
    make_attempt,
    make_import_run,
    make_judge,
    make_migration,
    make_pull_request,
    make_repo,
    make_team,
    make_user,
    make_verifier_result,
)

pytestmark = pytest.mark.django_db

XSS = "<script>alert('x')</script>"


def logged_in(client, role=VIEWER, **fields):
    client.force_login(make_user(role=role, **fields))
    return client


def seed(repos: int = 3, slug: str = "java-21"):
    migration = make_migration(slug, title="Move to Java 21")
    team = make_team("payments", "Payments")
    attempts = []
    for i in range(repos):
        attempt = make_attempt(migration, make_repo(f"org/svc-{i:03d}", team=team if i % 2 else None))
        make_verifier_result(attempt, passed=False, kind="maven", snippet=f"first failure {i}")
        make_verifier_result(attempt, passed=False, kind="maven", snippet=f"[ERROR] cannot find symbol Foo{i}")
        make_judge(attempt)
        attempts.append(attempt)
    return migration, attempts


def page_urls(migration=None, attempt=None, run=None):
    urls = [reverse("home"), reverse("import-list")]
    if migration:
        urls.append(reverse("migration-detail", args=[migration.slug]))
        urls.append(reverse("migration-repos", args=[migration.slug]))
        urls.append(reverse("cluster-list", args=[migration.slug]))
    if attempt:
        urls.append(reverse("attempt-detail", args=[attempt.trace_id]))
    if run:
        urls.append(reverse("import-detail", args=[run.pk]))
    return urls


# --- access ------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_login_page_logs_a_user_in(client):
    make_user("ana", password="correct-horse-1")
    assert b'name="username"' in client.get(reverse("login")).content
    response = client.post(reverse("login"), {"username": "ana", "password": "correct-horse-1"})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_for_every_role_with_an_empty_database(client, role):
    logged_in(client, role)
    for url in page_urls():
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_for_every_role_with_data(client, role):
    migration, attempts = seed()
    run = make_import_run(errors=2)
    logged_in(client, role)
    expected = {
        reverse("home"): "Move to Java 21",
        reverse("import-list"): f"#{run.pk}",
        reverse("migration-detail", args=[migration.slug]): "Funnel",
        reverse("migration-repos", args=[migration.slug]): "org/svc-000",
        reverse("attempt-detail", args=[attempts[0].trace_id]): "org/svc-000",
        reverse("import-detail", args=[run.pk]): "tr-bad-1",
    }
    for url, text in expected.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url


def test_unknown_objects_get_404(client):
    logged_in(client)
    assert client.get(reverse("migration-detail", args=["nope"])).status_code == 404
    assert client.get(reverse("migration-repos", args=["nope"])).status_code == 404
    assert client.get(reverse("cluster-list", args=["nope"])).status_code == 404
    assert client.get(reverse("cluster-detail", args=[424242])).status_code == 404
    assert client.get(reverse("attempt-detail", args=["tr-missing"])).status_code == 404
    assert client.get(reverse("import-detail", args=[424242])).status_code == 404


def test_pages_load_scripts_only_from_static_files_and_carry_the_csrf_header(client):
    logged_in(client)
    html = client.get(reverse("home")).content.decode()
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts
    assert all('src="/static/' in attrs or 'type="application/json"' in attrs for attrs in scripts)
    assert "htmx.min.js" in html
    assert re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"[A-Za-z0-9]+\"\}'>", html)
    assert "Content-Security-Policy" in client.get(reverse("home")).headers


def test_the_admin_link_shows_only_for_admins(client):
    logged_in(client, ADMIN, is_staff=True)
    assert b'href="/admin/"' in client.get(reverse("home")).content
    other = logged_in(Client(), VIEWER)
    assert b'href="/admin/"' not in other.get(reverse("home")).content


def test_logout_is_a_post_form(client):
    logged_in(client)
    html = client.get(reverse("home")).content.decode()
    assert re.search(r'<form method="post" action="/logout/">', html)


# --- home -----------------------------------------------------------------------


def test_home_explains_how_to_import_when_there_is_nothing(client):
    logged_in(client)
    response = client.get(reverse("home"))
    assert b"No migrations yet" in response.content
    assert b"python manage.py import_traces" in response.content


def test_home_lists_migrations_with_counts(client):
    migration, _ = seed(repos=3)
    make_attempt(migration, make_repo("org/base"), phase=Phase.BASELINE, outcome=Outcome.VERIFY_FAILED)
    logged_in(client)
    response = client.get(reverse("home"))
    summary = next(s for s in response.context["summaries"] if s.migration == migration)
    assert (summary.repos, summary.attempts, summary.pre_existing) == (4, 4, 1)
    assert b"Move to Java 21" in response.content
    assert reverse("migration-detail", args=[migration.slug]).encode() in response.content


# --- migration detail ----------------------------------------------------------------


def test_the_repository_table_shows_the_last_failed_verifier_snippet(client):
    migration, _ = seed(repos=1)
    logged_in(client)
    html = client.get(reverse("migration-repos", args=[migration.slug])).content.decode()
    assert "cannot find symbol Foo0" in html
    assert "first failure 0" not in html


def test_a_pre_existing_failure_shows_its_baseline_snippet(client):
    migration = make_migration("m")
    repo = make_repo("org/legacy")
    baseline = make_attempt(migration, repo, phase=Phase.BASELINE, outcome=Outcome.VERIFY_FAILED)
    make_verifier_result(baseline, passed=False, snippet="baseline broke: missing toolchain")
    make_attempt(migration, repo, outcome=Outcome.AGENT_ERROR)
    logged_in(client)
    html = client.get(reverse("migration-repos", args=["m"])).content.decode()
    assert "baseline broke: missing toolchain" in html
    assert "pre-existing failure" in html


def test_the_repository_table_filters_by_state_and_team_from_the_query_string(client):
    migration = make_migration("m")
    search = make_team("search")
    make_attempt(migration, make_repo("org/ok-one", team=search), outcome=Outcome.SUCCEEDED)
    make_attempt(migration, make_repo("org/bad-one", team=search), outcome=Outcome.VERIFY_FAILED)
    make_attempt(migration, make_repo("org/bad-two"), outcome=Outcome.VERIFY_FAILED)
    logged_in(client)
    url = reverse("migration-repos", args=["m"])

    def names(**params):
        return [t.repository.full_name for t in client.get(url, params).context["rows"]]

    assert names(state="verify_failed") == ["org/bad-one", "org/bad-two"]
    assert names(team="search") == ["org/bad-one", "org/ok-one"]
    assert names(state="verify_failed", team="search") == ["org/bad-one"]
    assert names(team="-") == ["org/bad-two"]


def test_state_tabs_count_within_the_team_filter(client):
    migration = make_migration("m")
    search = make_team("search")
    make_attempt(migration, make_repo("org/a", team=search), outcome=Outcome.SUCCEEDED)
    make_attempt(migration, make_repo("org/b"), outcome=Outcome.SUCCEEDED)
    logged_in(client)
    response = client.get(reverse("migration-repos", args=["m"]), {"team": "search"})
    tabs = {value: count for value, _, count in response.context["tabs"]}
    assert tabs["succeeded"] == 1
    assert response.context["total"] == 1


def test_an_unknown_state_is_ignored_with_a_notice(client):
    migration, _ = seed(repos=2)
    logged_in(client)
    response = client.get(reverse("migration-repos", args=[migration.slug]), {"state": "exploded"})
    assert response.status_code == 200
    assert len(response.context["rows"]) == 2
    assert b"not understood" in response.content


def test_filters_that_match_nothing_say_so(client):
    migration, _ = seed(repos=2)
    logged_in(client)
    response = client.get(reverse("migration-repos", args=[migration.slug]), {"state": "succeeded"})
    assert b"No repositories match these filters" in response.content


def test_the_repository_table_is_paginated_keeping_the_filters(client, settings):
    settings.PAGE_SIZE = 2
    migration, _ = seed(repos=5)
    logged_in(client)
    response = client.get(reverse("migration-repos", args=[migration.slug]), {"state": "verify_failed", "page": 3})
    assert [t.repository.full_name for t in response.context["rows"]] == ["org/svc-004"]
    html = response.content.decode()
    assert "Page 3 of 3" in html
    assert "?state=verify_failed&amp;page=2" in html


# --- attempt detail ----------------------------------------------------------------


def test_the_attempt_page_shows_verifiers_judge_costs_problems_and_siblings(client, settings):
    settings.MLFLOW_UI_URL = "http://mlflow.example:5000/"
    migration = make_migration("m")
    repo = make_repo("org/a")
    first = make_attempt(migration, repo, outcome=Outcome.AGENT_ERROR)
    attempt = make_attempt(
        migration,
        repo,
        outcome=Outcome.JUDGE_REJECTED,
        input_tokens=12345,
        cost_usd="0.4200",
        problems=["judge span missing output"],
        experiment_id="7",
        pr_url="https://github.com/org/a/pull/9",
    )
    make_verifier_result(
        attempt,
        passed=False,
        kind="npm",
        snippet="npm ERR! peer dep",
        output="x" * 50,
        output_size=5_000_000,
        output_truncated=True,
    )
    make_judge(attempt, verdict="veto", rationale="Deleted the tests.")
    logged_in(client)
    html = client.get(reverse("attempt-detail", args=[attempt.trace_id])).content.decode()
    assert "npm ERR! peer dep" in html
    assert "<details>" in html and "x" * 50 in html
    assert "truncated" in html and "4.8\xa0MB" in html
    assert "Deleted the tests." in html and "veto" in html
    assert "12345" in html and "0.4200" in html
    assert "judge span missing output" in html
    assert "https://github.com/org/a/pull/9" in html
    assert reverse("attempt-detail", args=[first.trace_id]) in html
    assert f"http://mlflow.example:5000/#/experiments/7/traces?selectedEvaluationId={attempt.trace_id}" in html


def test_the_attempt_page_has_no_mlflow_link_without_a_ui_address(client, settings):
    settings.MLFLOW_UI_URL = ""
    attempt = make_attempt()
    logged_in(client)
    assert b"Open trace in MLflow" not in client.get(reverse("attempt-detail", args=[attempt.trace_id])).content


# --- escaping ----------------------------------------------------------------------


def test_untrusted_text_is_escaped_everywhere(client):
    migration = make_migration("m")
    attempt = make_attempt(migration, make_repo(f"org/{XSS}"))
    make_verifier_result(attempt, passed=False, snippet=f"error {XSS}", output=f"out {XSS}", command=f"mvn {XSS}")
    make_judge(attempt, rationale=f"because {XSS}")
    run = make_import_run()
    run.error_rows.create(trace_id="tr-x", reason=f"bad {XSS}")
    logged_in(client)
    for url in page_urls(migration, attempt, run):
        html = client.get(url).content.decode()
        assert XSS not in html, url
    html = client.get(reverse("attempt-detail", args=[attempt.trace_id])).content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


# --- imports ------------------------------------------------------------------------


def test_the_import_list_shows_runs_with_their_first_errors(client):
    run = make_import_run(errors=8, seen=20, imported=12)
    logged_in(client)
    html = client.get(reverse("import-list")).content.decode()
    assert f"#{run.pk}" in html
    assert "tr-bad-0" in html and "tr-bad-4" in html and "tr-bad-5" not in html
    assert "All 8 errors" in html


def test_the_import_now_button_shows_only_for_owners_and_admins(client):
    for role, shown in ((VIEWER, False), (REVIEWER, False), (MIGRATION_OWNER, True), (ADMIN, True)):
        c = logged_in(Client(), role)
        assert (b"Import now" in c.get(reverse("import-list")).content) is shown, role


def test_an_owner_starts_an_import_from_the_page(client):
    logged_in(client, MIGRATION_OWNER)
    response = client.post(reverse("import-start"))
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("import-detail", args=[run.pk])
    assert run.trigger == "manual"
    assert b"queued" in client.get(response["Location"]).content


def test_a_viewer_cannot_start_an_import_from_the_page(client):
    logged_in(client, VIEWER)
    assert client.post(reverse("import-start")).status_code == 403
    assert not ImportRun.objects.exists()


def test_starting_an_import_needs_post_and_a_csrf_token():
    csrf_client = logged_in(Client(enforce_csrf_checks=True), MIGRATION_OWNER)
    assert csrf_client.get(reverse("import-start")).status_code == 405
    assert csrf_client.post(reverse("import-start")).status_code == 403
    assert not ImportRun.objects.exists()


def test_a_running_import_polls_its_status_and_a_finished_one_does_not(client):
    running = make_import_run(status=ImportRun.Status.RUNNING)
    done = make_import_run(status=ImportRun.Status.SUCCEEDED)
    logged_in(client)
    status_url = reverse("import-status", args=[running.pk])
    page = client.get(reverse("import-detail", args=[running.pk])).content.decode()
    assert f'hx-get="{status_url}" hx-trigger="every 2s"' in page
    partial = client.get(status_url).content.decode()
    assert 'hx-trigger="every 2s"' in partial and "<html" not in partial
    running.status = ImportRun.Status.SUCCEEDED
    running.save()
    assert "hx-trigger" not in client.get(status_url).content.decode()
    assert "hx-trigger" not in client.get(reverse("import-detail", args=[done.pk])).content.decode()


def test_import_errors_are_paginated_on_the_detail_page(client):
    run = make_import_run(errors=60)
    logged_in(client)
    response = client.get(reverse("import-detail", args=[run.pk]), {"page": 2})
    assert [e.trace_id for e in response.context["page"].object_list] == [f"tr-bad-{i}" for i in range(50, 60)]


# --- query counts -------------------------------------------------------------------


@pytest.mark.parametrize("repos", [5, 60])
def test_the_repository_table_takes_a_bounded_number_of_queries(client, settings, repos, django_assert_max_num_queries):
    settings.PAGE_SIZE = 100
    migration, _ = seed(repos=repos)
    logged_in(client)
    # The page's ids, then its rows (page_by_ids), whatever the number of repositories.
    with django_assert_max_num_queries(12):
        response = client.get(reverse("migration-repos", args=[migration.slug]))
    assert len(response.context["rows"]) == repos


@pytest.mark.parametrize("count", [5, 60])
def test_home_and_import_list_take_a_bounded_number_of_queries(client, count, django_assert_max_num_queries):
    for i in range(count):
        seed(repos=1, slug=f"m-{i}")
    for _ in range(min(count, 20)):
        make_import_run(errors=7)
    logged_in(client)
    with django_assert_max_num_queries(10):
        assert len(client.get(reverse("home")).context["summaries"]) == count
    with django_assert_max_num_queries(9):
        assert client.get(reverse("import-list")).status_code == 200


@pytest.mark.parametrize("siblings", [1, 30])
def test_the_attempt_page_takes_a_bounded_number_of_queries(client, siblings, django_assert_max_num_queries):
    migration = make_migration("m")
    repo = make_repo("org/a")
    for _ in range(siblings):
        attempt = make_attempt(migration, repo)
        make_verifier_result(attempt, passed=False, snippet="boom")
        make_pull_request(attempt)
    logged_in(client)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("attempt-detail", args=[attempt.trace_id])).status_code == 200


def test_an_admin_can_open_every_admin_list_and_an_imported_attempt(client):
    from django.contrib import admin

    attempt = make_attempt()
    make_verifier_result(attempt, passed=False, snippet="boom")
    make_judge(attempt)
    make_import_run(errors=1)
    logged_in(client, ADMIN, is_staff=True, is_superuser=True)
    for model in admin.site._registry:
        if model._meta.app_label != "runs":
            continue
        url = reverse(f"admin:runs_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
    response = client.get(reverse("admin:runs_attempt_change", args=[attempt.pk]))
    assert response.status_code == 200
    assert b"boom" in response.content
    assert client.get(reverse("admin:runs_attempt_add")).status_code == 403
