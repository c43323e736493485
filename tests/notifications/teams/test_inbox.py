"""A team's inbox across migrations: pages and API, filters, sort, stale flag and its per-team threshold."""

import pytest
from django.utils import timezone

from fleetui.common.roles import VIEWER
from notifications.teams.models import TeamInboxSettings
from runs.fleet.models import Outcome
from tests.factories import make_api_token, make_failed_verify, make_migration, make_team, make_user
from tests.notifications.teams.helpers import idle_pr
from triage.clusters.models import ClusterMember, FailureCluster

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer_client(client):
    client.force_login(make_user(role=VIEWER))
    return client


def api(role=VIEWER):
    return {"HTTP_AUTHORIZATION": f"Bearer {make_api_token(make_user(role=role))}"}


@pytest.fixture
def fleet():
    """Payments owns pull requests in two migrations; checkout owns one."""
    java, node = make_migration("java-21", "Java 21"), make_migration("node-22", "Node 22")
    payments, checkout = make_team("payments", "Payments"), make_team("checkout", "Checkout")
    prs = {
        "api": idle_pr(java, "acme/pay-api", payments, idle_days=1, checks="success", review="approved"),
        "web": idle_pr(node, "acme/pay-web", payments, idle_days=10, opened_days=12, checks="failure"),
        "cart": idle_pr(java, "acme/cart", checkout, idle_days=3, review="changes_requested"),
    }
    idle_pr(java, "acme/pay-merged", payments, idle_days=30, state="merged")
    return {"java": java, "node": node, "payments": payments, "checkout": checkout, **prs}


def test_the_inbox_lists_the_teams_open_prs_of_every_migration(viewer_client, fleet):
    page = viewer_client.get("/teams/payments/")

    assert page.status_code == 200
    rows = [(r.pr.repository.full_name, r.pr.migration.slug) for r in page.context["rows"]]
    assert sorted(rows) == [("acme/pay-api", "java-21"), ("acme/pay-web", "node-22")]
    assert b"acme/cart" not in page.content and b"pay-merged" not in page.content


def test_filters_in_the_url_narrow_the_inbox(viewer_client, fleet):
    def repos(query):
        return sorted(r.pr.repository.full_name for r in viewer_client.get(f"/teams/payments/?{query}").context["rows"])

    assert repos("migration=node-22") == ["acme/pay-web"]
    assert repos("ci=success") == ["acme/pay-api"]
    assert repos("review=none") == ["acme/pay-web"]
    assert repos("stale=1") == ["acme/pay-web"]
    assert repos("migration=java-21&ci=failure") == []


def test_an_inbox_with_nothing_matching_says_so_and_offers_every_pr(viewer_client, fleet):
    page = viewer_client.get("/teams/payments/?ci=pending")

    assert b"No open agent pull request matches these filters" in page.content
    assert b'href="/teams/payments/"' in page.content


def test_sorting_by_age_puts_the_oldest_first_and_reverses(viewer_client, fleet):
    oldest_first = [r.pr.pk for r in viewer_client.get("/teams/payments/?order=-age").context["rows"]]
    newest_first = [r.pr.pk for r in viewer_client.get("/teams/payments/?order=age").context["rows"]]

    assert oldest_first == [fleet["web"].pk, fleet["api"].pk]
    assert newest_first == list(reversed(oldest_first))


def test_stale_uses_the_default_threshold_unless_the_team_sets_its_own(viewer_client, fleet, settings):
    settings.FLEETUI_STALE_DAYS = 7
    stale = {r.pr.repository.full_name: r.stale for r in viewer_client.get("/teams/checkout/").context["rows"]}
    assert stale == {"acme/cart": False}

    TeamInboxSettings.objects.create(team=fleet["checkout"], stale_days=2)
    body = viewer_client.get("/api/teams/checkout/inbox", **api()).json()

    assert body["stale_days"] == 2
    assert [(r["repository"], r["stale"]) for r in body["results"]] == [("acme/cart", True)]


def test_the_team_list_counts_open_and_stale_prs_per_team_with_its_threshold(viewer_client, fleet):
    TeamInboxSettings.objects.create(team=fleet["checkout"], stale_days=2)

    body = viewer_client.get("/api/teams?order=team", **api()).json()

    by_slug = {t["slug"]: t for t in body["results"]}
    assert (by_slug["payments"]["open_pull_requests"], by_slug["payments"]["stale_pull_requests"]) == (2, 1)
    assert (by_slug["checkout"]["open_pull_requests"], by_slug["checkout"]["stale_pull_requests"]) == (1, 1)
    assert by_slug["payments"]["oldest_age_days"] == 12 and by_slug["checkout"]["stale_days"] == 2
    page = viewer_client.get("/teams/?q=pay")
    assert [t.slug for t in page.context["page"].object_list] == ["payments"]


def test_the_team_list_sorts_by_stale_count(viewer_client, fleet):
    most_stale = viewer_client.get("/api/teams?order=-stale", **api()).json()["results"]
    least_stale = viewer_client.get("/api/teams?order=stale", **api()).json()["results"]

    assert most_stale[0]["slug"] == "payments" and least_stale[0]["slug"] == "checkout"


def test_the_inbox_api_answers_each_pr_with_its_states_age_stale_flag_and_cluster(viewer_client, fleet):
    failed = make_failed_verify(fleet["node"], "npm", repo=fleet["web"].repository)
    cluster = FailureCluster.objects.create(migration=fleet["node"], title="npm ERESOLVE <peer>", size=1)
    ClusterMember.objects.create(
        cluster=cluster, migration=fleet["node"], attempt=failed, repository=failed.repository, joined_at=timezone.now()
    )

    body = viewer_client.get("/api/teams/payments/inbox?order=repo&limit=1&offset=1", **api()).json()

    assert (body["count"], body["limit"], body["offset"], body["team"]) == (2, 1, 1, "payments")
    (row,) = body["results"]
    assert row["repository"] == "acme/pay-web" and row["migration"] == "node-22"
    assert (row["state"], row["ci"], row["review"], row["stale"], row["age_days"]) == (
        "open",
        "failure",
        "none",
        True,
        12,
    )
    assert row["cluster"] == {"id": cluster.pk, "title": "npm ERESOLVE <peer>"}
    assert row["last_activity_at"]


@pytest.mark.parametrize("query", ["ci=green", "review=lgtm", "stale=yes", "order=colour", "limit=0"])
def test_the_inbox_api_refuses_unknown_filter_values(viewer_client, fleet, query):
    response = viewer_client.get(f"/api/teams/payments/inbox?{query}", **api())

    assert response.status_code == 400 and "error" in response.json()


def test_an_unknown_team_is_a_404_on_the_page_and_in_the_api(viewer_client, fleet):
    assert viewer_client.get("/teams/nobody/").status_code == 404
    assert viewer_client.get("/api/teams/nobody/inbox", **api()).json() == {"error": "no team nobody"}


def test_the_openapi_document_describes_both_endpoints_and_their_filters(viewer_client):
    paths = viewer_client.get("/api/openapi.json", **api()).json()["paths"]

    names = {p.get("name") for p in paths["/teams/{slug}/inbox"]["get"]["parameters"]}
    assert {"migration", "ci", "review", "stale", "order", "slug"} <= names
    assert "get" in paths["/teams"]


def test_untrusted_names_are_escaped_on_both_pages(viewer_client):
    migration = make_migration("java-21")
    team = make_team("evil", "<b>Evil</b> team")
    idle_pr(migration, "acme/<script>alert(1)</script>", team, idle_days=9, checks="<img src=x>")

    for url in ("/teams/", "/teams/evil/"):
        content = viewer_client.get(url).content
        assert b"<script>alert(1)" not in content and b"<img src=x>" not in content and b"<b>Evil" not in content
    assert b"&lt;script&gt;" in viewer_client.get("/teams/evil/").content


@pytest.mark.parametrize("count", [20, 100])
def test_the_pages_and_the_api_make_a_bounded_number_of_queries(viewer_client, django_assert_max_num_queries, count):
    team = make_team("payments")
    migrations = [make_migration(f"m-{i}") for i in range(3)]
    for i in range(count):
        pr = idle_pr(migrations[i % 3], f"acme/repo-{i}", team, idle_days=i % 12)
        if i % 4 == 0:
            make_failed_verify(pr.migration, "symbol", repo=pr.repository)
    make_team("checkout")
    headers = api()
    viewer_client.get("/teams/")  # the session and the user's roles, once

    with django_assert_max_num_queries(12):
        assert viewer_client.get("/teams/payments/").status_code == 200
    with django_assert_max_num_queries(10):
        assert viewer_client.get("/teams/").status_code == 200
    with django_assert_max_num_queries(10):
        assert viewer_client.get("/api/teams/payments/inbox?limit=200", **headers).status_code == 200
    with django_assert_max_num_queries(10):
        assert viewer_client.get("/api/teams", **headers).status_code == 200


def test_an_inbox_without_open_prs_says_inbox_zero(viewer_client):
    make_team("quiet", "Quiet")
    make_migration()

    page = viewer_client.get("/teams/quiet/")

    assert b"Inbox zero" in page.content
    assert Outcome.SUCCEEDED  # the model's choices load with the page


def test_the_team_list_sorts_by_oldest_pr_and_by_channel(viewer_client, fleet):
    oldest = [t["slug"] for t in viewer_client.get("/api/teams?order=-age", **api()).json()["results"]]
    page = viewer_client.get("/teams/?order=channel")

    assert oldest == ["payments", "checkout"]
    assert page.status_code == 200 and b'aria-sort="ascending"' in page.content
