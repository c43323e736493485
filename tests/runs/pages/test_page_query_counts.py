"""Every main page makes the same, bounded number of queries on a small fleet and on one five times larger."""

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from runs.dashboards.counts import migration_counts_forget
from runs.management.commands._pages_fleet import seed
from runs.management.commands.bench_pages import _pages

SMALL, LARGE = 0.002, 0.01  # 20 and 100 repositories per migration
MAX_QUERIES = 25


def _counts(scale: float, admin: Client, *, kept: bool = True) -> dict[str, tuple[int, int]]:
    """Seed a fleet inside a transaction that is rolled back; (status, queries) of each page on it, with each
    migration's counts kept (as an import leaves them) or counted live (before any import kept them)."""
    counts = {}
    with transaction.atomic():
        fleet = seed(scale=scale, migrations=2, progress=None)
        if not kept:
            migration_counts_forget()
        for name, url in _pages(fleet):
            admin.get(url)  # warm: sessions, caches and first-request work are not the page's
            with CaptureQueriesContext(connection) as queries:
                response = admin.get(url)
            counts[name] = (response.status_code, len(queries))
        transaction.set_rollback(True)
    return counts


@pytest.fixture
def admin(db):
    from runs.accounts.services import user_with_role_create

    client = Client()
    client.force_login(user_with_role_create(username="pages", role="admin", password="pages-unused"))
    return client


@pytest.mark.django_db
def test_every_page_makes_the_same_bounded_number_of_queries_on_a_five_times_larger_fleet(admin):
    small = _counts(SMALL, admin)
    large = _counts(LARGE, admin)

    assert {name: status for name, (status, _) in large.items()} == dict.fromkeys(large, 200)
    assert {name: status for name, (status, _) in small.items()} == dict.fromkeys(small, 200)
    # Same count at both sizes; a page may skip a query when its rows are empty (a search matching no members).
    grown = {name: (small[name][1], q) for name, (_, q) in large.items() if q > small[name][1]}
    assert grown == {}
    assert max(q for _, q in large.values()) <= MAX_QUERIES


@pytest.mark.django_db
def test_pages_counting_live_before_any_counts_are_kept_stay_bounded_too(admin):
    small = _counts(SMALL, admin, kept=False)
    large = _counts(LARGE, admin, kept=False)

    assert {name: status for name, (status, _) in large.items()} == dict.fromkeys(large, 200)
    grown = {name: (small[name][1], q) for name, (_, q) in large.items() if q > small[name][1]}
    assert grown == {}
    assert max(q for _, q in large.values()) <= MAX_QUERIES


@pytest.mark.django_db
def test_kept_counts_save_the_overview_and_dashboard_their_counting_queries(admin):
    live = _counts(SMALL, admin, kept=False)
    kept = _counts(SMALL, admin)

    assert kept["fleet overview"][1] < live["fleet overview"][1]
    assert kept["migration dashboard"][1] < live["migration dashboard"][1]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "page",
    [
        "fleet overview",
        "migration dashboard",
        "repositories, filtered",
        "repositories, deep page",
        "cluster list",
        "largest cluster",
        "attempt",
        "review queue",
        "nudge drafts",
        "rerun batch of 1,000 items",
        "activity",
    ],
)
def test_each_page_answers_within_its_query_budget_on_the_larger_fleet(page, admin, django_assert_max_num_queries):
    fleet = seed(scale=LARGE, migrations=2, progress=None)
    url = dict(_pages(fleet))[page]
    admin.get(url)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = admin.get(url)
    assert response.status_code == 200
