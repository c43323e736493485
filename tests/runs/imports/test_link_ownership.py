"""A trace links only its own repository's pull request on the configured GitHub, and never takes over another's.

Traces are written through MLflow's tracing API into one real store for the module; each test reads its own experiment.
"""

import pytest

from runs.demo.tracing import fleet_tags, write_trace
from runs.fleet.models import Attempt, Outcome, PullRequest
from runs.imports.services import import_run_execute
from tests.mlflow_support import verify_span

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("github_com")]

OWN_PR = "https://github.com/acme/api/pull/7"


def run_import(store_uri, exp):
    return import_run_execute(tracking_uri=store_uri, trigger="test", experiments=[exp])


def trace(exp, *, repo="acme/api", migration="junit5", attempt=1, pr_url=OWN_PR):
    return write_trace(
        experiment_id=exp,
        tags=fleet_tags(migration=migration, repo=repo, attempt=attempt, pr_url=pr_url),
        spans=[verify_span()],
    )


def test_a_hostile_trace_naming_another_repositorys_pull_request_does_not_take_it_over(store_uri, exp):
    owner = trace(exp)
    run_import(store_uri, exp)
    hostile = trace(exp, repo="evil-org/eta", attempt=99)

    run = run_import(store_uri, exp)

    pull = PullRequest.objects.get()
    assert (pull.url, pull.attempt.trace_id, pull.repository.full_name) == (OWN_PR, owner, "acme/api")
    [(error_trace, reason)] = run.error_rows.values_list("trace_id", "reason")
    assert error_trace == hostile
    assert "names a pull request of 'acme/api'" in reason and "'evil-org/eta'" in reason
    assert "imported without this link" in reason
    attempt = Attempt.objects.get(trace_id=hostile)
    assert (attempt.pr_url, attempt.outcome) == ("", Outcome.SUCCEEDED)
    assert any("not linked" in problem for problem in attempt.problems)
    assert (run.imported, run.errors) == (1, 1)


def test_the_same_hostile_trace_in_one_page_with_the_owner_changes_nothing(store_uri, exp):
    owner = trace(exp)
    hostile = trace(exp, repo="evil-org/eta", attempt=99)

    run = run_import(store_uri, exp)

    assert PullRequest.objects.get().attempt.trace_id == owner
    assert list(run.error_rows.values_list("trace_id", flat=True)) == [hostile]


def test_a_pull_request_never_moves_to_another_migration_of_the_same_repository(store_uri, exp):
    owner = trace(exp, migration="junit5")
    run_import(store_uri, exp)
    other = trace(exp, migration="log4j-to-slf4j", attempt=5)

    run = run_import(store_uri, exp)

    pull = PullRequest.objects.get()
    assert (pull.migration.slug, pull.attempt.trace_id) == ("junit5", owner)
    [reason] = run.error_rows.values_list("reason", flat=True)
    assert "already the pull request of migration 'junit5'" in reason
    assert Attempt.objects.get(trace_id=other).pr_url == ""


def test_a_later_attempt_of_the_same_repository_and_migration_still_takes_its_pull_request(store_uri, exp):
    trace(exp, attempt=1)
    run_import(store_uri, exp)
    second = trace(exp, attempt=2, pr_url="https://github.com/ACME/API/pull/7/files?diff=split#top")

    run = run_import(store_uri, exp)

    assert run.errors == 0
    pull = PullRequest.objects.get()
    assert (pull.url, pull.attempt.trace_id, pull.number) == (OWN_PR, second, 7)
    assert Attempt.objects.get(trace_id=second).pr_url == OWN_PR


@pytest.mark.parametrize(
    ("pr_url", "why"),
    [
        ("https://github.evil.example/acme/api/pull/7", "not on the configured GitHub 'github.com'"),
        ("https://github.com.evil.example/acme/api/pull/7", "not on the configured GitHub"),
        ("https://user:pass@github.com/acme/api/pull/7", "carries credentials"),
        ("https://github.com/acme/api/issues/7", "is not a pull request URL"),
        ("https://github.com/acme/api/pull/0", "is not a pull request URL"),
        ("javascript:alert(1)//github.com/acme/api/pull/7", "is not an http(s) URL"),
        ("https://github.com/acme/api-fork/pull/7", "names a pull request of 'acme/api-fork'"),
    ],
)
def test_a_pull_request_url_off_the_configured_host_or_repository_becomes_an_import_error(store_uri, exp, pr_url, why):
    trace_id = trace(exp, pr_url=pr_url)

    run = run_import(store_uri, exp)

    [(error_trace, reason)] = run.error_rows.values_list("trace_id", "reason")
    assert error_trace == trace_id
    assert why in reason
    assert not PullRequest.objects.exists()
    assert Attempt.objects.get(trace_id=trace_id).pr_url == ""


def test_on_github_enterprise_only_the_enterprise_host_is_accepted(store_uri, exp, settings):
    settings.GITHUB_API_URL = "https://ghe.acme.test/api/v3"
    enterprise = trace(exp, repo="acme/api", pr_url="https://ghe.acme.test/acme/api/pull/3")
    public = trace(exp, repo="acme/web", pr_url="https://github.com/acme/web/pull/4")

    run = run_import(store_uri, exp)

    assert list(PullRequest.objects.values_list("url", flat=True)) == ["https://ghe.acme.test/acme/api/pull/3"]
    assert PullRequest.objects.get().attempt.trace_id == enterprise
    [(error_trace, reason)] = run.error_rows.values_list("trace_id", "reason")
    assert error_trace == public and "not on the configured GitHub 'ghe.acme.test'" in reason


def test_a_refused_link_is_reported_once_not_on_every_import(store_uri, exp):
    trace(exp, pr_url="https://gitlab.example/acme/api/pull/7")
    first = run_import(store_uri, exp)
    second = run_import(store_uri, exp)

    assert (first.errors, second.errors) == (1, 0)
    assert second.skip_reasons == {"unchanged since the last import": 1}
