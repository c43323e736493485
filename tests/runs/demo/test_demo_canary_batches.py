"""The demo starts two canary reruns of its own, of clusters the agent caused: one whose prompt names the fix, one
unchanged; once only."""

import math
from collections import Counter

import pytest
from django.utils import timezone

from fleetui.common.roles import MIGRATION_OWNER
from runs.demo.canary import weak_spot
from runs.demo.migrations import MIGRATIONS
from runs.fleet.models import AuditEvent, Layer
from runs.management.commands._demo_canaries import CANARY_FRACTION, demo_canary_batches_start
from runs.reruns.models import RerunBatch, RerunPhase, RerunState
from runs.reruns.runners.demo import demo_repo
from tests.factories import make_attempt, make_migration, make_repo, make_user
from triage.clusters.models import ClusterMember, FailureCluster

pytestmark = pytest.mark.django_db


def cluster_of(migration, title, size, prefix, layer=Layer.AGENT):
    found = FailureCluster.objects.create(migration=migration, title=title, size=size, repos=size)
    for i in range(size):
        repo = make_repo(f"acme/{prefix}-{i}")
        ClusterMember.objects.create(
            cluster=found,
            migration=migration,
            attempt=make_attempt(migration, repo, layer=layer),
            repository=repo,
            joined_at=timezone.now(),
        )
    return found


@pytest.fixture
def demo_fleet():
    migration = make_migration(MIGRATIONS[0].slug)
    make_user("owner", role=MIGRATION_OWNER)
    cluster_of(migration, "Could not transfer artifact", 12, "infra", layer=Layer.INFRASTRUCTURE)
    largest = cluster_of(migration, "No module named 'structlog'", 9, "large")
    second = cluster_of(make_migration(MIGRATIONS[1].slug), "cannot find symbol", 7, "second")
    cluster_of(migration, "too small to expand", 2, "small")
    return migration, largest, second


def test_the_largest_cluster_is_rerun_with_its_fix_in_the_prompt_and_the_next_one_unchanged(demo_fleet):
    migration, largest, second = demo_fleet

    started = demo_canary_batches_start()

    assert [(c.cluster, c.with_fix) for c in started] == [(second, False), (largest, True)]
    unchanged, fixed = (c.batch for c in started)
    for batch, cluster in ((fixed, largest), (unchanged, second)):
        batch.refresh_from_db()
        assert batch.phase == RerunPhase.CANARY and batch.source_cluster_id == cluster.pk
        first = math.ceil(CANARY_FRACTION * cluster.repos)
        assert batch.items.filter(canary=True, state=RerunState.QUEUED).count() == first
        assert batch.items.filter(state=RerunState.HELD).count() == cluster.repos - first
    # The fixed batch's prompt names the fix of its repositories' usual failure; the other keeps the current one.
    fixes = Counter(
        weak_spot(demo_repo(f"acme/large-{i}", build="maven"), MIGRATIONS[0]).fix_keywords[0] for i in range(9)
    )
    usual = fixes.most_common(1)[0][0]
    assert fixed.prompt_revision is not None and usual in fixed.prompt_revision.text
    assert unchanged.prompt_revision is None, "the unchanged rerun keeps its migration's prompt (none here)"
    assert AuditEvent.objects.filter(actor__username="owner", migration__in=[migration, second.migration]).count() >= 2


def test_a_second_start_leaves_the_demos_canary_reruns_as_they_are(demo_fleet):
    demo_canary_batches_start()

    again = demo_canary_batches_start()

    assert again == [] and RerunBatch.objects.count() == 2


def test_without_a_second_cluster_of_the_agents_failures_large_enough_nothing_starts(demo_fleet):
    migration, largest, second = demo_fleet
    FailureCluster.objects.filter(pk=second.pk).update(repos=2)

    assert demo_canary_batches_start() == []
    assert not RerunBatch.objects.exists()
