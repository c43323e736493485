"""A cluster's kept counts (cost, layers, days, why, recent members) stay what a live count says after every
change to its members or to its repositories' attempts."""

from decimal import Decimal

import pytest
from django.utils import timezone

from runs.imports.signals import import_finished
from tests.factories import make_attempt, make_failed_verify, make_import_run, make_migration, make_user
from triage.clusters.counts import KEPT_FIELDS, _counted, cluster_counts_many
from triage.clusters.models import ClusterCounts, ClusterMember, FailureCluster
from triage.clusters.services import cluster_merge, cluster_split, clusters_rebuild

pytestmark = pytest.mark.django_db


def live(cluster_ids) -> dict[int, dict]:
    return {pk: {name: getattr(c, name) for name in KEPT_FIELDS} for pk, c in _counted(list(cluster_ids)).items()}


def kept(cluster_ids) -> dict[int, dict]:
    rows = ClusterCounts.objects.in_bulk(list(cluster_ids))
    return {pk: {name: getattr(row, name) for name in KEPT_FIELDS} for pk, row in rows.items()}


def every_cluster() -> list[int]:
    return list(FailureCluster.objects.values_list("pk", flat=True))


def cluster_of(attempt) -> FailureCluster:
    return ClusterMember.objects.get(attempt=attempt).cluster


def two_causes(migration, n=3):
    symbols = [make_failed_verify(migration, "symbol") for _ in range(n)]
    crates = [make_failed_verify(migration, "crate") for _ in range(n)]
    for i, attempt in enumerate(symbols + crates):
        attempt.cost_usd = Decimal("0.25") * (i + 1)
        attempt.save(update_fields=["cost_usd"])
    clusters_rebuild(migration=migration, threshold=0.8)
    return symbols, crates


def test_a_rebuild_keeps_the_counts_of_every_cluster_it_made():
    two_causes(make_migration())

    ids = every_cluster()
    assert len(ids) == 2
    assert kept(ids) == live(ids)
    assert sorted(row["members"] for row in kept(ids).values()) == [3, 3]
    assert sum(row["usd_known"] for row in kept(ids).values()) == Decimal("0.25") * 21


def test_a_merge_and_a_split_keep_the_counts_of_the_clusters_they_touch():
    symbols, crates = two_causes(make_migration())
    actor = make_user()

    into = cluster_merge(source=cluster_of(crates[0]), into=cluster_of(symbols[0]), actor=actor)
    assert list(ClusterCounts.objects.values_list("cluster_id", flat=True)) == [into.pk]
    assert kept([into.pk]) == live([into.pk]) and kept([into.pk])[into.pk]["members"] == 6

    new = cluster_split(cluster=into, trace_ids=[crates[0].trace_id, crates[1].trace_id], actor=actor)
    assert kept([into.pk, new.pk]) == live([into.pk, new.pk])
    assert (kept([new.pk])[new.pk]["members"], kept([into.pk])[into.pk]["members"]) == (2, 4)


def test_an_import_that_gives_a_member_repository_a_new_attempt_counts_its_cluster_again(
    django_capture_on_commit_callbacks,
):
    symbols, crates = two_causes(make_migration())
    before = kept(every_cluster())
    since = timezone.now()
    crate_cluster = cluster_of(crates[0]).pk

    # A later attempt of the same repository that cost more: the cluster's spend grows though no member moved.
    make_attempt(crates[0].migration, crates[0].repository, outcome="agent_error", cost_usd=Decimal("10"))
    with django_capture_on_commit_callbacks(execute=True):
        import_finished.send(sender=None, run=make_import_run(started_at=since))

    after = kept(every_cluster())
    assert after == live(every_cluster())
    assert after[crate_cluster]["usd_known"] == before[crate_cluster]["usd_known"] + Decimal("10")
    symbol_cluster = cluster_of(symbols[0]).pk
    assert after[symbol_cluster] == before[symbol_cluster]


def test_a_cluster_without_kept_counts_is_counted_when_a_page_asks_and_kept():
    two_causes(make_migration())
    ClusterCounts.objects.all().delete()

    found = cluster_counts_many(cluster_ids=every_cluster())

    assert {pk: {n: getattr(c, n) for n in KEPT_FIELDS} for pk, c in found.items()} == live(every_cluster())
    assert ClusterCounts.objects.count() == 2
