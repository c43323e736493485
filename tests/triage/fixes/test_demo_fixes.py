"""The demo fleet has clusters fixed in some repositories by a later attempt, whose edits show on the cluster."""

import mlflow
import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache

from fleetui.common.roles import ROLES
from runs.demo.fleet import fleet_plan
from runs.demo.writer import fleet_write
from runs.fleet.models import Migration
from runs.imports.services import import_run_execute
from triage.clusters.fixes.exemplars import cluster_fixes
from triage.clusters.models import FailureCluster
from triage.clusters.services import clusters_rebuild

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ANCHOR_MS = 1_760_000_400_000


@pytest.fixture(autouse=True)
def role_groups_and_empty_cache():
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    cache.clear()


def test_demo_retries_that_passed_show_the_edits_that_fixed_their_cluster(tmp_path, settings):
    fleet = fleet_plan(seed=7, repo_count=80, anchor_ms=ANCHOR_MS)
    retried = {(a.migration.slug, a.repo.full_name) for a in fleet.attempts if a.edits}
    assert retried, "the plan has passing retries carrying edits"
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings.MLFLOW_TRACKING_URI = uri
    previous = mlflow.get_tracking_uri()
    try:
        fleet_write(fleet, tracking_uri=uri)
    finally:
        mlflow.set_tracking_uri(previous)
    import_run_execute(tracking_uri=uri, trigger="test")
    for migration in Migration.objects.all():
        clusters_rebuild(migration=migration, threshold=settings.CLUSTER_THRESHOLD)

    found = [
        (cluster, fix)
        for cluster in FailureCluster.objects.filter(size__gt=0).select_related("migration")
        for fix in cluster_fixes(cluster=cluster).fixes
    ]

    assert found, "some cluster shows a fix"
    retry_fixes = [(c, f) for c, f in found if (f.migration, f.repo) in retried]
    assert retry_fixes, "a later attempt's edits fix some cluster"
    assert any(f.touches_cause for _, f in found)
    assert all(e.file.startswith("/home/runner/_work/") for _, f in found for e in f.edits)
