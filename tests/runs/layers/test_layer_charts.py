"""The dashboard's failure-layer bar and its spend by cluster and layer: counts, links, escaping and freshness."""

import json
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fleetui.common.roles import VIEWER
from runs.fleet.models import Layer, Outcome
from tests.factories import make_attempt, make_migration, make_repo, make_user
from triage.clusters.models import ClusterMember, FailureCluster

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()


@pytest.fixture
def viewer(client):
    client.force_login(make_user(role=VIEWER))
    return client


def attempt(migration, name, layer, outcome=Outcome.VERIFY_FAILED, **fields):
    return make_attempt(migration, make_repo(name), outcome=outcome, layer=layer, **fields)


def cluster_of(migration, title, attempts):
    found = FailureCluster.objects.create(migration=migration, title=title, size=len(attempts), repos=len(attempts))
    for member in attempts:
        ClusterMember.objects.create(
            cluster=found,
            migration=migration,
            attempt=member,
            repository=member.repository,
            joined_at=timezone.now(),
        )
    return found


def figure(response, chart_id: str) -> dict:
    found = re.search(
        rf'<script id="{chart_id}" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    assert found, f"no {chart_id} in the partial"
    return json.loads(found.group(1))


def partial(client, migration):
    response = client.get(reverse("migration-layers", args=[migration.slug]))
    assert response.status_code == 200
    return response


def test_the_layer_bar_counts_each_repository_once_in_the_layer_of_its_latest_attempt(viewer):
    migration = make_migration("logging")
    flaky = make_repo("org/flaky")
    make_attempt(migration, flaky, outcome=Outcome.VERIFY_FAILED, layer=Layer.INFRASTRUCTURE)
    make_attempt(migration, flaky, outcome=Outcome.SUCCEEDED, layer=Layer.VERIFIED)
    attempt(migration, "org/a", Layer.AGENT)
    attempt(migration, "org/b", Layer.AGENT)
    attempt(migration, "org/c", Layer.UNVERIFIABLE, outcome=Outcome.SUCCEEDED)
    attempt(migration, "org/d", Layer.INFRASTRUCTURE)

    bars = figure(partial(viewer, migration), "chart-layers")["data"]

    counts = {bar["name"]: bar["x"][0] for bar in bars}
    assert counts == {"verified": 1, "unverifiable": 1, "agent": 2, "infrastructure": 1}
    repos_url = reverse("migration-repos", args=[migration.slug])
    assert {bar["customdata"][0] for bar in bars} == {
        f"{repos_url}?layer={layer}" for layer in ("verified", "unverifiable", "agent", "infrastructure")
    }


def test_a_layer_segment_links_to_exactly_the_repositories_it_counts(viewer):
    migration = make_migration("logging")
    attempt(migration, "org/a", Layer.AGENT)
    attempt(migration, "org/b", Layer.INFRASTRUCTURE)
    bars = figure(partial(viewer, migration), "chart-layers")["data"]
    link = next(bar["customdata"][0] for bar in bars if bar["name"] == "infrastructure")

    listed = viewer.get(link).content.decode()

    assert "org/b" in listed
    assert "org/a" not in listed


def test_the_spend_chart_stacks_each_clusters_cost_by_the_layer_of_the_attempts_that_spent_it(viewer):
    migration = make_migration("logging")
    a = make_repo("org/a")
    infra = make_attempt(migration, a, layer=Layer.INFRASTRUCTURE, cost_usd=Decimal("1.50"))
    agent = make_attempt(migration, a, layer=Layer.AGENT, cost_usd=Decimal("2.25"))
    cheap = attempt(migration, "org/b", Layer.AGENT, cost_usd=Decimal("0.10"))
    costly = cluster_of(migration, "No module named 'structlog'", [infra, agent])
    cluster_of(migration, "cannot find symbol", [cheap])

    response = partial(viewer, migration)
    spend = figure(response, "chart-spend")

    by_layer = {trace["name"]: dict(zip(trace["y"], trace["x"], strict=True)) for trace in spend["data"]}
    assert by_layer["infrastructure"][f"c{costly.pk}"] == 1.5
    assert by_layer["agent"][f"c{costly.pk}"] == 2.25
    assert spend["layout"]["yaxis"]["categoryarray"][-1] == f"c{costly.pk}", "the costliest cluster is on top"
    assert spend["layout"]["xaxis"]["title"]["text"] == "USD"
    table = response.content.decode().split("data-spend-by-layer", 1)[1]
    assert "$2.35" in table and "$1.50" in table, "the migration's agent and infrastructure spend"


def test_spend_falls_back_to_tokens_when_no_attempt_has_a_cost(viewer, settings):
    settings.FLEETUI_DEFAULT_PRICE = None
    migration = make_migration("logging")
    member = attempt(migration, "org/a", Layer.AGENT, input_tokens=1000, output_tokens=250)
    cluster_of(migration, "cannot find symbol", [member])

    spend = figure(partial(viewer, migration), "chart-spend")

    assert spend["layout"]["xaxis"]["title"]["text"] == "tokens"
    assert spend["data"][0]["x"] == [1250.0]


def test_a_hostile_cluster_title_is_escaped_in_the_spend_chart(viewer):
    migration = make_migration("logging")
    member = attempt(migration, "org/a", Layer.AGENT, cost_usd=Decimal("1"))
    cluster_of(migration, "<img src=x onerror=alert(1)>", [member])

    response = partial(viewer, migration)

    assert "<img src=x" not in response.content.decode()
    ticks = figure(response, "chart-spend")["layout"]["yaxis"]["ticktext"]
    assert ticks == ["&lt;img src=x onerror=alert(1)&gt;"]


def test_the_charts_are_read_again_once_a_new_attempt_arrives(viewer):
    migration = make_migration("logging")
    attempt(migration, "org/a", Layer.AGENT)
    first = figure(partial(viewer, migration), "chart-layers")["data"]
    assert {bar["name"]: bar["x"][0] for bar in first} == {"agent": 1}

    attempt(migration, "org/b", Layer.INFRASTRUCTURE)
    second = figure(partial(viewer, migration), "chart-layers")["data"]

    assert {bar["name"]: bar["x"][0] for bar in second} == {"agent": 1, "infrastructure": 1}


def test_a_cached_partial_answers_with_fewer_queries_than_the_first(viewer):
    migration = make_migration("logging")
    for n in range(5):
        member = attempt(migration, f"org/r{n}", Layer.AGENT, cost_usd=Decimal("1"))
        cluster_of(migration, f"cause {n}", [member])

    with CaptureQueriesContext(connection) as cold:
        partial(viewer, migration)
    with CaptureQueriesContext(connection) as warm:
        partial(viewer, migration)

    assert len(warm) < len(cold)


def test_the_dashboard_shell_loads_the_layer_charts_after_the_page(viewer):
    migration = make_migration("logging")
    attempt(migration, "org/a", Layer.AGENT)

    page = viewer.get(reverse("migration-detail", args=[migration.slug])).content.decode()

    assert f'hx-get="{reverse("migration-layers", args=[migration.slug])}"' in page
    assert 'id="chart-layers"' not in page


def test_a_migration_without_attempts_says_so_instead_of_drawing_empty_charts(viewer):
    migration = make_migration("empty")

    body = partial(viewer, migration).content.decode()

    assert "No attempt has ended yet." in body
    assert "No attempt records tokens or cost." in body
    assert 'id="chart-layers"' not in body
