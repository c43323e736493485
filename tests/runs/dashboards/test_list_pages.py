"""The repository table and the fleet overview as one-line lists: search, sort, cluster picker, selection, queries."""

from datetime import date, timedelta

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from fleetui.common.listing import Column, sort_headers
from fleetui.common.roles import MIGRATION_OWNER, VIEWER
from fleetui.common.sparklines import daily_values, sparkline
from runs.dashboards.list_views import telling_line
from runs.fleet.forms import repository_names_selected
from runs.fleet.models import Outcome
from runs.templatetags.lists import ago, cut_owner, short_name
from tests.factories import (
    make_attempt,
    make_judge,
    make_migration,
    make_pull_request,
    make_repo,
    make_team,
    make_user,
    make_verifier_result,
)
from triage.clusters.models import ClusterMember, FailureCluster

pytestmark = pytest.mark.django_db

XSS = "<script>alert('x')</script>"


def logged_in(client, role=VIEWER):
    client.force_login(make_user(role=role))


def failing(migration, name: str, snippet: str, *, team=None, attempts: int = 1):
    repo = make_repo(name, team=team)
    for _ in range(attempts):
        attempt = make_attempt(migration, repo)
    make_verifier_result(attempt, passed=False, kind="maven", snippet=snippet)
    return attempt


def names(client, slug="m", **params):
    return [t.repository.full_name for t in client.get(reverse("migration-repos", args=[slug]), params).context["rows"]]


# --- pure helpers ------------------------------------------------------------------------


def test_a_sparkline_has_one_bar_per_day_scaled_to_the_busiest_day():
    spark = sparkline([0, 2, 4, 0], first_day=date(2026, 1, 1), width=40, height=10)
    assert spark.values == (0, 2, 4, 0) and spark.total == 6 and spark.peak == 4
    # Two bars (days with failures) and two baseline ticks; the busiest reaches the top but one pixel.
    assert spark.bars.count("M") == 2 and spark.ticks.count("M") == 2
    assert "v-9" in spark.bars and "v-4.5" in spark.bars
    assert spark.label == "6 in the last 4 days, at most 4 a day, 0 today"
    empty = sparkline([0, 0], first_day=date(2026, 1, 1))
    assert empty.bars == "" and empty.label == "no failures in the last 2 days"


def test_daily_values_fill_missing_days_with_zero_oldest_first():
    end = date(2026, 3, 10)
    assert daily_values({end: 3, end - timedelta(days=2): 1, end - timedelta(days=9): 5}, end=end, days=4) == [
        0,
        1,
        0,
        3,
    ]


def test_ages_are_short_enough_for_a_one_line_row():
    now = timezone.now()
    assert ago(now - timedelta(seconds=20), now) == "just now"
    assert ago(now - timedelta(minutes=12), now) == "12m ago"
    assert ago(now - timedelta(hours=5, minutes=59), now) == "5h ago"
    assert ago(now - timedelta(days=9), now) == "9d ago"
    assert ago(now - timedelta(days=30), now) == "4w ago"
    assert ago(None) == ""


def test_a_failure_reads_on_one_line_as_the_line_that_names_it_from_the_repository_root():
    snippet = (
        "[INFO] -------------------------------------------------------------\n"
        "[ERROR] COMPILATION ERROR :\n"
        "[INFO] -------------------------------------------------------------\n"
        "[ERROR] /home/runner/_work/api/api/src/main/java/Foo.java:[3,8] cannot find symbol\n"
    )
    assert telling_line(snippet) == "src/main/java/Foo.java:[3,8] cannot find symbol"
    assert telling_line("all good here\nnothing else") == "all good here"
    assert telling_line("") == ""


def test_an_owner_name_splits_into_owner_and_name():
    assert (cut_owner("acme/api"), short_name("acme/api")) == ("acme", "api")
    assert (cut_owner("lonely"), short_name("lonely")) == ("", "lonely")


def test_a_sorted_header_links_to_the_other_direction_and_drops_the_page():
    query = QueryDict("team=payments&order=-attempts&page=3")
    columns = [Column("Attempts", "attempts"), Column("Repository", "repo", descending_first=False), Column("PR")]
    attempts, repo, pr = sort_headers(query, columns, "-attempts")
    assert (attempts.aria_sort, attempts.url, attempts.arrow) == ("descending", "?team=payments&order=attempts", "▼")
    assert (repo.aria_sort, repo.url) == ("", "?team=payments&order=repo")
    assert pr.url == "" and pr.aria_sort == ""


# --- repository table ------------------------------------------------------------------------


def test_the_repository_table_is_searched_by_name_and_by_failure_text(client):
    migration = make_migration("m")
    failing(migration, "payments/api", "[ERROR] cannot find symbol: class ExpectedException")
    failing(migration, "payments/web", "npm ERR! peer react@17")
    judged = make_attempt(migration, make_repo("search/indexer"), outcome=Outcome.JUDGE_REJECTED)
    make_judge(judged, rationale="The diff deletes the flaky tests instead of fixing them.")
    logged_in(client)
    assert names(client, repo="PAYMENTS/") == ["payments/api", "payments/web"]
    assert names(client, q="expectedexception") == ["payments/api"]
    assert names(client, q="flaky tests") == ["search/indexer"]
    assert names(client, repo="payments", q="peer react") == ["payments/web"]
    html = client.get(reverse("migration-repos", args=["m"]), {"repo": XSS}).content.decode()
    assert "No repository of this migration is named like" in html
    assert XSS not in html and "&lt;script&gt;" in html


def test_headers_sort_the_repository_table_both_ways(client):
    migration = make_migration("m")
    alpha, beta = make_team("alpha", "Alpha"), make_team("beta", "Beta")
    failing(migration, "org/c", "boom", team=alpha, attempts=3)
    failing(migration, "org/a", "boom", team=beta, attempts=1)
    make_attempt(migration, make_repo("org/b"), outcome=Outcome.SUCCEEDED)
    logged_in(client)
    assert names(client) == ["org/a", "org/b", "org/c"]
    assert names(client, order="-repo") == ["org/c", "org/b", "org/a"]
    assert names(client, order="-attempts") == ["org/c", "org/a", "org/b"]
    assert names(client, order="team") == ["org/c", "org/a", "org/b"]  # no team sorts last
    assert names(client, order="state") == ["org/b", "org/a", "org/c"]
    response = client.get(reverse("migration-repos", args=["m"]), {"order": "-attempts", "team": "alpha"})
    headers = {h.label: h for h in response.context["headers"]}
    assert headers["Attempts"].aria_sort == "descending"
    assert headers["Attempts"].url == "?order=attempts&team=alpha"
    assert headers["Repository"].url == "?order=repo&team=alpha"
    assert headers["Cluster"].url == ""
    # An unknown sort is ignored: the default order, no error.
    assert names(client, order="password") == ["org/a", "org/b", "org/c"]


def test_the_cluster_picker_lists_clusters_by_kind_and_filters_by_the_chosen_one(client):
    migration = make_migration("m")
    attempt = failing(migration, "org/a", "[ERROR] cannot find symbol")
    failing(migration, "org/b", "npm ERR! peer")
    cluster = FailureCluster.objects.create(migration=migration, title="cannot find symbol", size=1, repos=1)
    FailureCluster.objects.create(migration=migration, title="empty", size=0)
    ClusterMember.objects.create(
        cluster=cluster,
        migration=migration,
        attempt=attempt,
        repository=attempt.repository,
        joined_at=timezone.now(),
        deciding_line="Foo.java:[3,1] cannot find symbol",
    )
    logged_in(client)
    response = client.get(reverse("migration-repos", args=["m"]), {"cluster": cluster.pk})
    html = response.content.decode()
    assert [t.repository.full_name for t in response.context["rows"]] == ["org/a"]
    assert 'name="cluster" class="cluster-picker"' in html and 'type="text" inputmode="numeric"' not in html
    assert f'<option value="{cluster.pk}" selected>cannot find symbol (1)</option>' in html
    assert "empty (0)" not in html  # clusters without failures are not offered
    # The row names its cause by the line that decided the cluster, not the snippet's first line.
    assert "Foo.java:[3,1] cannot find symbol" in html


def test_selecting_all_matching_repositories_keeps_the_search():
    migration = make_migration("m")
    failing(migration, "payments/api", "boom")
    failing(migration, "payments/web", "other")
    failing(migration, "search/indexer", "boom")
    data = QueryDict("all_matching=1&filter_repo=payments&filter_q=boom&filter_order=-repo")
    assert repository_names_selected(migration=migration, data=data) == ["payments/api"]


def test_a_repository_row_is_one_line_with_its_pull_request_checks_and_review(client):
    migration = make_migration("m")
    attempt = failing(migration, "org/a", "boom")
    make_pull_request(attempt, number=42, checks="failure", review="changes_requested")
    logged_in(client)
    html = client.get(reverse("migration-repos", args=["m"])).content.decode()
    row = html[html.index("<tbody>") : html.index("</tbody>")]
    assert row.count("<tr>") == 1
    assert "#42" in row and "CI ✗" in row and "changesrequested" in row
    assert 'class="table-wrap"' not in html  # no sideways-scrolling box around the list


def test_every_page_of_the_repository_table_holds_its_rows_in_the_table_order(client, settings):
    settings.PAGE_SIZE = 3
    migration = make_migration("m")
    for i in (5, 2, 7, 0, 3, 6, 1, 4):
        failing(migration, f"org/r{i}", "boom", attempts=1 + i % 3)
    logged_in(client)
    for order in ("repo", "-repo", "-attempts", "attempts"):
        pages = [names(client, order=order, page=page) for page in (1, 2, 3)]
        everything = [name for page in pages for name in page]
        assert [len(page) for page in pages] == [3, 3, 2]
        assert sorted(everything) == [f"org/r{i}" for i in range(8)]
        if order.endswith("repo"):
            assert everything == sorted(everything, reverse=order.startswith("-"))
        else:
            counts = [1 + int(name[-1]) % 3 for name in everything]
            assert counts == sorted(counts, reverse=order.startswith("-"))
    response = client.get(reverse("migration-repos", args=["m"]), {"page": 3})
    assert response.context["page"].number == 3
    assert "7–8 of 8" in response.content.decode()


@pytest.mark.parametrize("repos", [4, 45])
def test_the_repository_table_takes_the_same_number_of_queries_for_any_number_of_rows(
    client, settings, repos, django_assert_max_num_queries
):
    settings.PAGE_SIZE = 100
    migration = make_migration("m")
    cluster = FailureCluster.objects.create(migration=migration, title="boom", size=repos)
    for i in range(repos):
        attempt = failing(migration, f"org/r{i:02d}", "boom")
        make_pull_request(attempt)
        ClusterMember.objects.create(
            cluster=cluster,
            migration=migration,
            attempt=attempt,
            repository=attempt.repository,
            joined_at=timezone.now(),
        )
    logged_in(client, MIGRATION_OWNER)
    # Session, user, migration, state tabs, the page's ids, its rows, snippets, pull requests, clusters, teams,
    # picker, roles, ownership.
    with django_assert_max_num_queries(13):
        response = client.get(
            reverse("migration-repos", args=["m"]), {"q": "boom", "repo": "org", "order": "-attempts"}
        )
    assert len(response.context["rows"]) == repos
    assert all(t.cluster == cluster for t in response.context["rows"])


# --- fleet overview ------------------------------------------------------------------------


def test_the_overview_shows_each_migration_on_one_line_with_its_trend_and_open_clusters(client):
    migration = make_migration("m", title="Move to Java 21")
    for days in (0, 0, 3):
        attempt = make_attempt(migration, make_repo(), outcome=Outcome.VERIFY_FAILED)
        attempt.ended_at = timezone.now() - timedelta(days=days)
        attempt.save(update_fields=["ended_at"])
    FailureCluster.objects.create(migration=migration, title="open", size=2)
    FailureCluster.objects.create(migration=migration, title="done", size=1, status=FailureCluster.Status.RESOLVED)
    logged_in(client)
    response = client.get(reverse("home"))
    summary = response.context["summaries"][0]
    assert summary.trend.total == 3 and summary.trend.values[-1] == 2 and summary.trend.values[-4] == 1
    assert summary.open_clusters == 1
    html = response.content.decode()
    assert '<svg class="spark"' in html and "plotly" not in html
    assert f'href="{reverse("migration-repos", args=["m"])}?state=verify_failed"' in html
    row = html[html.index("<tbody>") : html.index("</tbody>")]
    assert row.count("<tr>") == 1
