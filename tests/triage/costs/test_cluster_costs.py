"""What a cluster cost so far and how often reruns fixed it: sums, pricing, fix rate, API, pages and query counts."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from fleetui.common.roles import MIGRATION_OWNER, VIEWER
from runs.fleet.models import Attempt, Outcome, Phase
from runs.reruns.models import RerunBatch, RerunItem, RerunOutcome, RerunState
from tests.factories import make_api_token, make_attempt, make_migration, make_repo, make_user
from triage.clusters.costs import cluster_costs, expected_rerun_cost
from triage.clusters.counts import cluster_counts_refresh
from triage.clusters.models import ClusterMember, FailureCluster

pytestmark = pytest.mark.django_db


def failed(migration, repo, **fields):
    return make_attempt(migration, repo, outcome=Outcome.VERIFY_FAILED, **fields)


def cluster_of(migration, title, attempts):
    found = FailureCluster.objects.create(migration=migration, title=title, size=len(attempts), repos=len(attempts))
    for attempt in attempts:
        ClusterMember.objects.create(
            cluster=found,
            migration=migration,
            attempt=attempt,
            repository=attempt.repository,
            joined_at=timezone.now(),
        )
    # As clustering leaves it: the cluster's counts kept.
    cluster_counts_refresh(cluster_ids=[found.pk])
    return found


def imported(*clusters):
    """What an import that wrote these clusters' attempts leaves: their counts kept again (receivers.py)."""
    cluster_counts_refresh(cluster_ids=[found.pk for found in clusters])


@pytest.fixture
def fleet():
    """Two clusters: `symbols` on repos a and b (b twice), `crates` on repo c; repo d of another migration."""
    migration = make_migration("jackson-3")
    other = make_migration("other")
    a, b, c = make_repo("org/a"), make_repo("org/b"), make_repo("org/c")
    make_attempt(migration, a, phase=Phase.BASELINE, outcome=Outcome.SUCCEEDED, cost_usd=Decimal("0.50"))
    a1 = failed(migration, a, cost_usd=Decimal("1.25"), input_tokens=1000, output_tokens=200, duration_ms=60_000)
    b1 = failed(migration, b, cost_usd=Decimal("2.00"), input_tokens=3000, output_tokens=500, duration_ms=30_000)
    b2 = failed(migration, b, cost_usd=Decimal("0.25"), input_tokens=10, output_tokens=5, duration_ms=500)
    c1 = failed(migration, c, cost_usd=Decimal("4.00"), input_tokens=7, output_tokens=3, duration_ms=2_000)
    failed(other, a, cost_usd=Decimal("100"), input_tokens=99_999, duration_ms=99_000)
    symbols = cluster_of(migration, "cannot find symbol", [a1, b2])
    crates = cluster_of(migration, "crate not found", [c1])
    return migration, symbols, crates, {"a": a, "b": b, "c": c, "b1": b1, "b2": b2, "c1": c1}


def rerun(migration, cluster, repos_outcomes, *, source_attempts=None):
    batch = RerunBatch.objects.create(migration=migration, runner="demo", source_cluster_id=cluster.pk)
    for i, (repo, outcome) in enumerate(repos_outcomes):
        RerunItem.objects.create(
            batch=batch,
            migration=migration,
            repository=repo,
            state=RerunState.SUCCEEDED,
            outcome=outcome,
            source_cluster_id=cluster.pk if source_attempts is None else None,
            source_attempt=None if source_attempts is None else source_attempts[i],
        )
    return batch


def test_each_cluster_sums_every_attempt_of_its_repositories_in_its_migration(fleet):
    _, symbols, crates, _ = fleet

    costs = cluster_costs(cluster_ids=[symbols.pk, crates.pk])

    assert costs[symbols.pk]["cost"] == {"usd": 4.0, "tokens": 4715, "agent_seconds": 90.5}
    assert costs[crates.pk]["cost"] == {"usd": 4.0, "tokens": 10, "agent_seconds": 2.0}


def test_attempts_with_tokens_but_no_cost_are_priced_by_the_default_price(fleet, settings):
    migration, _, crates, repos = fleet
    failed(migration, repos["c"], input_tokens=2_000_000, output_tokens=1_000_000)
    imported(crates)

    settings.FLEETUI_DEFAULT_PRICE = None
    unpriced = cluster_costs(cluster_ids=[crates.pk])[crates.pk]["cost"]
    settings.FLEETUI_DEFAULT_PRICE = {"input": 3, "output": 15}
    priced = cluster_costs(cluster_ids=[crates.pk])[crates.pk]["cost"]

    assert unpriced["usd"] == 4.0
    assert unpriced["tokens"] == 3_000_010
    assert priced["usd"] == 4.0 + 2 * 3 + 1 * 15


def test_a_cluster_with_only_unpriced_attempts_has_no_dollar_cost(settings):
    settings.FLEETUI_DEFAULT_PRICE = None
    migration = make_migration("m")
    found = cluster_of(migration, "x", [failed(migration, make_repo("org/x"), input_tokens=5)])

    assert cluster_costs(cluster_ids=[found.pk])[found.pk]["cost"] == {"usd": None, "tokens": 5, "agent_seconds": 0}


def test_the_fix_rate_is_null_before_any_rerun_and_the_fixed_share_after(fleet):
    migration, symbols, crates, repos = fleet
    before = cluster_costs(cluster_ids=[symbols.pk, crates.pk])
    rerun(
        migration,
        symbols,
        [
            (repos["a"], RerunOutcome.FIXED),
            (repos["b"], RerunOutcome.STILL_FAILING),
            (repos["c"], RerunOutcome.PENDING),
        ],
    )
    rerun(migration, symbols, [(repos["b"], RerunOutcome.CANCELLED)])

    after = cluster_costs(cluster_ids=[symbols.pk, crates.pk])

    assert before[symbols.pk]["fix_rate"] is None
    assert after[symbols.pk]["fix_rate"] == 0.5
    assert after[crates.pk]["fix_rate"] is None


def test_reruns_of_a_members_attempt_count_for_its_cluster(fleet):
    migration, _, crates, repos = fleet
    other = FailureCluster.objects.create(migration=migration, title="elsewhere")
    rerun(migration, other, [(repos["c"], RerunOutcome.FIXED)], source_attempts=[repos["c1"]])

    assert cluster_costs(cluster_ids=[crates.pk])[crates.pk]["fix_rate"] == 1.0


def test_the_expected_rerun_cost_is_the_mean_attempt_cost_times_the_count(fleet):
    migration, _, _, repos = fleet

    expected = expected_rerun_cost(migration_id=migration.pk, repository_ids=[repos["b"].pk, repos["c"].pk])

    assert expected == (Decimal("2.00") + Decimal("0.25") + Decimal("4.00")) / 3 * 2


def test_the_cluster_api_lists_cost_and_fix_rate(client, fleet):
    migration, symbols, _, repos = fleet
    rerun(migration, symbols, [(repos["a"], RerunOutcome.FIXED)])
    headers = {"Authorization": f"Bearer {make_api_token(make_user(role=VIEWER))}"}

    body = client.get("/api/migrations/jackson-3/clusters", headers=headers).json()

    rows = {row["id"]: row for row in body["results"]}
    assert rows[symbols.pk]["cost"] == {"usd": 4.0, "tokens": 4715, "agent_seconds": 90.5}
    assert rows[symbols.pk]["fix_rate"] == 1.0
    doc = client.get("/api/openapi.json", headers=headers).json()
    assert {"cost", "fix_rate"} <= set(doc["components"]["schemas"]["ClusterWithCost"]["required"])


@pytest.mark.parametrize("n", [1, 10])
def test_costs_of_a_page_take_three_queries_for_any_number_of_clusters(n, django_assert_max_num_queries):
    migration = make_migration("many")
    clusters = []
    for i in range(n):
        attempts = [failed(migration, make_repo(f"org/r{i}-{j}"), cost_usd=Decimal("1")) for j in range(3)]
        clusters.append(cluster_of(migration, f"cause {i}", attempts))
        rerun(migration, clusters[-1], [(attempts[0].repository, RerunOutcome.FIXED)])

    with django_assert_max_num_queries(3):
        costs = cluster_costs(cluster_ids=[c.pk for c in clusters])

    assert all(costs[c.pk]["cost"]["usd"] == 3.0 and costs[c.pk]["fix_rate"] == 1.0 for c in clusters)


def test_the_cluster_page_and_list_show_cost_and_fix_rate(client, fleet):
    migration, symbols, _, repos = fleet
    rerun(migration, symbols, [(repos["a"], RerunOutcome.FIXED), (repos["b"], RerunOutcome.NEW_FAILURE)])
    client.force_login(make_user(role=VIEWER))

    page = client.get(reverse("cluster-detail", args=[symbols.pk])).content.decode()
    listing = client.get(reverse("cluster-list", args=[migration.slug])).content.decode()

    assert "Cost so far: <strong>$4.00</strong>" in page
    assert "<strong>50%</strong>" in page
    assert "$4.00" in listing


def test_the_rerun_form_shows_the_expected_cost_and_the_past_fix_rate(client, fleet):
    migration, symbols, _, repos = fleet
    rerun(migration, symbols, [(repos["a"], RerunOutcome.FIXED), (repos["b"], RerunOutcome.STILL_FAILING)])
    client.force_login(make_user(role=MIGRATION_OWNER))

    page = client.get(reverse("rerun-new", args=[migration.slug]), {"cluster": symbols.pk}).content.decode()

    # Repos a and b: attempts of 0.50, 1.25, 2.00 and 0.25 dollars, a mean of 1.00, times two repositories.
    assert "Expected cost: <strong>$2.00</strong>" in page
    assert "Past fix rate of this cluster: <strong>50%</strong>" in page


def test_a_cluster_is_in_the_layer_most_of_its_members_are_in_and_counts_each_layer():
    migration = make_migration("layers")
    infra = [failed(migration, make_repo(f"org/i{n}"), layer="infrastructure") for n in range(3)]
    agent = [failed(migration, make_repo("org/a0"), layer="agent")]
    mostly_infra = cluster_of(migration, "ETIMEDOUT registry.npmjs.org", infra + agent)
    tie = cluster_of(
        migration,
        "tie",
        [
            failed(migration, make_repo("org/t0"), layer="infrastructure"),
            failed(migration, make_repo("org/t1"), layer="agent"),
        ],
    )
    empty = FailureCluster.objects.create(migration=migration, title="empty")

    costs = cluster_costs(cluster_ids=[mostly_infra.pk, tie.pk, empty.pk])

    assert costs[mostly_infra.pk]["layer"] == "infrastructure"
    assert costs[mostly_infra.pk]["layers"] == {"infrastructure": 3, "agent": 1}
    assert costs[tie.pk]["layer"] == "agent", "a tie goes to the layer the agent may have caused"
    assert costs[empty.pk]["layer"] is None and costs[empty.pk]["layers"] == {}


def test_the_clusters_api_items_carry_their_layer(client, fleet):
    migration, symbols, _, _ = fleet
    Attempt.objects.filter(cluster_memberships__cluster=symbols).update(layer="agent")
    imported(symbols)
    key = make_api_token(make_user(role=VIEWER))

    items = client.get(f"/api/migrations/{migration.slug}/clusters", headers={"Authorization": f"Bearer {key}"}).json()[
        "results"
    ]

    assert {item["id"]: item["layer"] for item in items}[symbols.pk] == "agent"
    assert all(set(item["layers"]) <= {"agent", "infrastructure", "pre-existing"} for item in items)


def test_the_cluster_page_lists_what_each_rerun_of_it_cost_and_fixed(client, fleet):
    migration, symbols, crates, repos = fleet
    first = rerun(migration, symbols, [(repos["a"], RerunOutcome.FIXED), (repos["b"], RerunOutcome.NEW_FAILURE)])
    for item, usd in zip(first.items.order_by("id"), ("0.40", "0.35"), strict=True):
        item.result_attempt = failed(migration, item.repository, cost_usd=Decimal(usd), input_tokens=100)
        item.save(update_fields=["result_attempt"])
    second = rerun(migration, symbols, [(repos["b"], RerunOutcome.FIXED)])
    other = rerun(migration, crates, [(repos["c"], RerunOutcome.FIXED)])
    client.force_login(make_user(role=VIEWER))

    page = client.get(reverse("cluster-detail", args=[symbols.pk])).content.decode()

    table = page.split("data-rerun-costs", 1)[1].split("</table>", 1)[0]
    rows = {batch: table.split(f'data-rerun="{batch}"', 1)[1].split("</tr>", 1)[0] for batch in (first.pk, second.pk)}
    assert "1 of 2 ended" in rows[first.pk] and "$0.75" in rows[first.pk] and ">200<" in rows[first.pk]
    assert "1 of 1 ended" in rows[second.pk] and "–" in rows[second.pk], "no new attempt yet: no cost"
    assert f'data-rerun="{other.pk}"' not in table, "another cluster's rerun is not listed"
    assert table.index(f'data-rerun="{second.pk}"') < table.index(f'data-rerun="{first.pk}"'), "newest first"


def test_a_cluster_never_rerun_shows_no_rerun_table(client, fleet):
    _, symbols, _, _ = fleet
    client.force_login(make_user(role=VIEWER))

    page = client.get(reverse("cluster-detail", args=[symbols.pk])).content.decode()

    assert "data-rerun-costs" not in page
    assert "no rerun yet" in page


def test_the_cluster_api_answers_its_cost_layer_and_each_reruns_cost(client, fleet):
    migration, symbols, _, repos = fleet
    batch = rerun(migration, symbols, [(repos["a"], RerunOutcome.FIXED)])
    item = batch.items.get()
    item.result_attempt = failed(migration, repos["a"], cost_usd=Decimal("0.30"), input_tokens=10, output_tokens=5)
    item.save(update_fields=["result_attempt"])
    imported(symbols)
    key = make_api_token(make_user(role=VIEWER))

    body = client.get(f"/api/clusters/{symbols.pk}", headers={"Authorization": f"Bearer {key}"}).json()

    assert body["fix_rate"] == 1.0
    assert body["cost"]["usd"] == pytest.approx(4.30)
    assert body["reruns"] == [
        {
            "id": batch.pk,
            "created_at": body["reruns"][0]["created_at"],
            "infrastructure_retry": False,
            "items": 1,
            "fixed": 1,
            "ended": 1,
            "usd": 0.3,
            "tokens": 15,
        }
    ]
