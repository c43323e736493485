"""The cluster list: one line per cluster with its trend, sortable headers, searches, bulk triage, bounded queries."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fleetui.common.roles import MIGRATION_OWNER, VIEWER
from runs.fleet.models import AuditEvent, Outcome
from tests.factories import make_attempt, make_migration, make_repo, make_user, make_verifier_result
from triage.clusters.counts import cluster_counts_refresh
from triage.clusters.models import ClusterKind, ClusterMember, FailureCluster

pytestmark = pytest.mark.django_db

XSS = "<script>alert('x')</script>"


def logged_in(client, role=VIEWER, **fields):
    user = make_user(role=role, **fields)
    client.force_login(user)
    return user


def cluster(migration, title: str, repos: list[str], *, days_ago: list[int] | None = None, **fields) -> FailureCluster:
    """A cluster whose members are failed attempts on these repositories, each ended `days_ago` days back."""
    found = FailureCluster.objects.create(
        migration=migration, title=title, example_snippet=f"[ERROR] {title}", **fields
    )
    now = timezone.now()
    for i, name in enumerate(repos):
        ended = now - timedelta(days=(days_ago or [0] * len(repos))[i])
        attempt = make_attempt(
            migration, make_repo(name), outcome=Outcome.VERIFY_FAILED, started_at=ended - timedelta(minutes=5)
        )
        attempt.ended_at = ended
        attempt.save(update_fields=["ended_at"])
        result = make_verifier_result(attempt, passed=False, snippet=f"{title} in {name}")
        ClusterMember.objects.create(
            cluster=found,
            migration=migration,
            kind=found.kind,
            attempt=attempt,
            verifier_result=result,
            repository=attempt.repository,
            snippet=result.snippet,
            joined_at=ended,
        )
    found.size = found.repos = found.agent_failures = len(repos)
    found.first_seen_at = now - timedelta(days=max(days_ago or [0]))
    found.last_seen_at = now - timedelta(days=min(days_ago or [0]))
    found.save()
    # As clustering leaves it: the cluster's counts kept.
    cluster_counts_refresh(cluster_ids=[found.pk])
    return found


def rows(client, slug="m", **params):
    return client.get(reverse("cluster-list", args=[slug]), params).context["clusters"]


def test_each_row_carries_a_daily_trend_of_its_failures_over_two_weeks(client):
    migration = make_migration("m")
    busy = cluster(migration, "missing symbol", ["org/a", "org/b", "org/c", "org/old"], days_ago=[0, 0, 2, 30])
    logged_in(client)
    response = client.get(reverse("cluster-list", args=["m"]))
    trend = response.context["clusters"][0].trend
    assert len(trend.values) == 14
    # Two failures today, one two days ago; the one a month ago is outside the window.
    assert (trend.values[-1], trend.values[-3], trend.total) == (2, 1, 3)
    html = response.content.decode()
    assert '<svg class="spark"' in html and "3 in the last 14 days, at most 2 a day, 2 today" in html
    assert busy.get_status_display() in html and "unassigned" in html and "just now</time>" in html


def test_rows_show_the_assignee_and_the_example_on_the_same_line_as_the_title(client):
    migration = make_migration("m")
    owner = make_user("ana", role=MIGRATION_OWNER)
    cluster(migration, "missing symbol", ["org/a"], assignee=owner, status=FailureCluster.Status.TRIAGED)
    logged_in(client)
    html = client.get(reverse("cluster-list", args=["m"])).content.decode()
    row = html[html.index("<tbody>") : html.index("</tbody>")]
    assert row.count("<tr>") == 1
    assert "ana" in row and "triaged" in row and "[ERROR] missing symbol" in row
    assert 'class="one-line"' in row


def test_headers_sort_both_ways_and_keep_the_other_filters(client):
    migration = make_migration("m")
    cluster(migration, "b wide", ["org/1", "org/2", "org/3"], status=FailureCluster.Status.TRIAGED)
    cluster(migration, "a narrow", ["org/4"], status=FailureCluster.Status.RESOLVED)
    cluster(migration, "c middle", ["org/5", "org/6"], status=FailureCluster.Status.NEW)
    logged_in(client)

    def titles(**params):
        return [c.title for c in rows(client, **params)]

    assert titles() == ["b wide", "c middle", "a narrow"]
    assert titles(order="size") == ["a narrow", "c middle", "b wide"]
    assert titles(order="repos") == ["a narrow", "c middle", "b wide"]
    assert titles(order="-title") == ["c middle", "b wide", "a narrow"]
    # Statuses in their declared order (new, triaged, ..., resolved), not alphabetical.
    assert titles(order="status") == ["c middle", "b wide", "a narrow"]
    response = client.get(reverse("cluster-list", args=["m"]), {"q": "i", "order": "-size", "page": "1"})
    headers = {h.label: h for h in response.context["headers"]}
    assert headers["Failures"].aria_sort == "descending"
    assert headers["Failures"].url == "?q=i&order=size"
    assert headers["Repos"].aria_sort == "" and headers["Repos"].url == "?q=i&order=-repos"
    assert headers["Cluster"].url == "?q=i&order=title"
    assert 'aria-sort="descending"' in response.content.decode()
    assert b"not understood" not in client.get(reverse("cluster-list", args=["m"]), {"order": "repos"}).content


def test_the_list_is_searched_by_repository_name_and_by_failure_text(client):
    migration = make_migration("m")
    cluster(migration, "missing symbol", ["payments/api", "search/indexer"])
    cluster(migration, "flaky network", ["payments/web"])
    logged_in(client)
    assert [c.title for c in rows(client, repo="indexer")] == ["missing symbol"]
    assert sorted(c.title for c in rows(client, repo="PAYMENTS/")) == ["flaky network", "missing symbol"]
    assert [c.title for c in rows(client, repo="payments", q="network")] == ["flaky network"]
    page = client.get(reverse("cluster-list", args=["m"]), {"repo": "payments", "q": "network"}).content.decode()
    assert 'value="payments"' in page and 'value="network"' in page


def test_an_empty_search_says_what_found_nothing_escaped(client):
    migration = make_migration("m")
    logged_in(client)
    assert b"No failure clusters yet" in client.get(reverse("cluster-list", args=["m"])).content
    cluster(migration, "missing symbol", ["org/a"])
    html = client.get(reverse("cluster-list", args=["m"]), {"q": XSS}).content.decode()
    assert "No clusters match these filters" in html and "No failure mentions" in html
    assert XSS not in html and "&lt;script&gt;" in html


def test_an_owner_sets_status_and_assignee_of_the_selection_and_returns_to_the_same_list(client):
    migration = make_migration("m")
    first = cluster(migration, "missing symbol", ["org/a"])
    second = cluster(migration, "flaky network", ["org/b"])
    untouched = cluster(migration, "lint error", ["org/c"])
    owner = logged_in(client, MIGRATION_OWNER)
    url = reverse("cluster-bulk", args=["m"])
    back = "q=e&order=title&page=2&next=https://evil.example/"
    response = client.post(
        url, {"clusters": [first.pk, second.pk], "action": "status", "status": "wont_fix", "back": back}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("cluster-list", args=["m"]) + "?q=e&order=title&page=2"
    client.post(url, {"clusters": [first.pk], "action": "assign", "assignee": str(owner.pk)})
    first.refresh_from_db(), second.refresh_from_db(), untouched.refresh_from_db()
    assert (first.status, second.status, untouched.status) == ("wont_fix", "wont_fix", "new")
    assert (first.assignee, second.assignee) == (owner, None)
    assert AuditEvent.objects.filter(verb="cluster.update").count() == 3
    client.post(url, {"clusters": [first.pk], "action": "assign", "assignee": "-"})
    first.refresh_from_db()
    assert first.assignee is None


def test_merging_the_selection_moves_every_member_into_the_largest_cluster(client):
    migration = make_migration("m")
    large = cluster(migration, "missing symbol", ["org/a", "org/b"])
    small = cluster(migration, "missing symbol again", ["org/c"])
    judge = cluster(migration, "judge says no", ["org/d"], kind=ClusterKind.JUDGE)
    logged_in(client, MIGRATION_OWNER)
    url = reverse("cluster-bulk", args=["m"])
    client.post(url, {"clusters": [small.pk, large.pk, judge.pk], "action": "merge"})
    assert FailureCluster.objects.count() == 3  # verifier and judge clusters do not merge
    client.post(url, {"clusters": [small.pk, large.pk], "action": "merge"})
    assert list(FailureCluster.objects.order_by("id").values_list("id", flat=True)) == [large.pk, judge.pk]
    large.refresh_from_db()
    assert large.size == 3 and large.members.count() == 3


def test_a_viewer_reads_the_list_without_selection_and_cannot_post_changes(client):
    migration = make_migration("m")
    found = cluster(migration, "missing symbol", ["org/a"])
    logged_in(client, VIEWER)
    html = client.get(reverse("cluster-list", args=["m"])).content.decode()
    assert "data-select-row" not in html and "Set status" not in html
    assert "Only this migration's owners and admins change clusters" in html
    response = client.post(reverse("cluster-bulk", args=["m"]), {"clusters": [found.pk], "action": "status"})
    assert response.status_code == 403
    found.refresh_from_db()
    assert found.status == "new"


def test_bulk_changes_leave_other_migrations_clusters_alone_and_need_a_csrf_token(client):
    mine, other = make_migration("m"), make_migration("other")
    foreign = cluster(other, "missing symbol", ["org/a"])
    user = logged_in(client, MIGRATION_OWNER)
    client.post(
        reverse("cluster-bulk", args=["m"]), {"clusters": [foreign.pk], "action": "status", "status": "resolved"}
    )
    foreign.refresh_from_db()
    assert foreign.status == "new"
    assert mine.failure_clusters.count() == 0
    csrf = Client(enforce_csrf_checks=True)
    csrf.force_login(user)
    assert csrf.post(reverse("cluster-bulk", args=["m"]), {"clusters": [foreign.pk]}).status_code == 403
    assert csrf.get(reverse("cluster-bulk", args=["m"])).status_code == 405


@pytest.mark.parametrize("clusters", [3, 40])
def test_the_list_takes_the_same_number_of_queries_for_any_number_of_rows(
    client, settings, clusters, django_assert_max_num_queries
):
    settings.PAGE_SIZE = 100
    migration = make_migration("m")
    owner = make_user("ana", role=MIGRATION_OWNER)
    for i in range(clusters):
        cluster(migration, f"cause {i}", [f"org/r{i}", f"org/s{i}"], days_ago=[i % 14, 0], assignee=owner)
    logged_in(client, MIGRATION_OWNER)
    # Three of them read the page's costs.
    with django_assert_max_num_queries(14):
        response = client.get(reverse("cluster-list", args=["m"]), {"repo": "org", "q": "cause", "order": "status"})
    assert len(response.context["clusters"]) == clusters
    assert all(c.trend.total == 2 for c in response.context["clusters"])
