import pytest

from runs.fleet.models import AuditEvent
from tests.factories import make_failed_verify, make_migration, make_user
from triage.clusters.models import ClusterMember, FailureCluster
from triage.clusters.services import TriageError, cluster_merge, cluster_split, cluster_update, clusters_rebuild

pytestmark = pytest.mark.django_db
Status = FailureCluster.Status


def rebuild(migration):
    clusters_rebuild(migration=migration, threshold=0.8)


def cluster_of(attempt) -> FailureCluster:
    return ClusterMember.objects.get(attempt=attempt).cluster


def two_causes(migration, n=3):
    symbols = [make_failed_verify(migration, "symbol") for _ in range(n)]
    crates = [make_failed_verify(migration, "crate") for _ in range(n)]
    rebuild(migration)
    return symbols, crates


def test_updating_a_cluster_writes_an_audit_event_with_the_changes():
    migration = make_migration()
    symbols, _ = two_causes(migration)
    actor, assignee = make_user(), make_user()

    cluster_update(cluster=cluster_of(symbols[0]), actor=actor, status=Status.TRIAGED, notes="seen", assignee=assignee)

    cluster = cluster_of(symbols[0])
    assert (cluster.status, cluster.notes, cluster.assignee) == (Status.TRIAGED, "seen", assignee)
    event = AuditEvent.objects.get(verb="cluster.update")
    assert event.actor == actor and event.migration == migration and event.target_id == str(cluster.pk)
    assert event.data["status"] == [Status.NEW, Status.TRIAGED]
    assert event.data["assignee"] == [None, assignee.username]


def test_an_unknown_status_is_refused():
    migration = make_migration()
    symbols, _ = two_causes(migration)

    with pytest.raises(TriageError):
        cluster_update(cluster=cluster_of(symbols[0]), actor=make_user(), status="fixed")
    assert not AuditEvent.objects.exists()


def test_an_edited_title_survives_a_rebuild():
    migration = make_migration()
    symbols, _ = two_causes(migration)
    cluster_update(cluster=cluster_of(symbols[0]), actor=make_user(), title="Jackson 3 moved JsonParser")

    rebuild(migration)

    cluster = cluster_of(symbols[0])
    assert cluster.title == "Jackson 3 moved JsonParser" and cluster.title_locked


def test_a_merge_moves_the_members_and_stays_merged_after_a_rebuild():
    migration = make_migration()
    symbols, crates = two_causes(migration)
    source, target = cluster_of(crates[0]), cluster_of(symbols[0])

    merged = cluster_merge(source=source, into=target, actor=make_user())

    assert merged.size == 6 and merged.repos == 6
    assert not FailureCluster.objects.filter(pk=source.pk).exists()
    assert AuditEvent.objects.filter(verb="cluster.merge", target_id=str(target.pk)).exists()
    rebuild(migration)
    assert {cluster_of(a).pk for a in symbols + crates} == {target.pk}
    assert FailureCluster.objects.get(pk=target.pk).size == 6


def test_a_merge_across_migrations_is_refused():
    first, second = make_migration(), make_migration()
    a, _ = two_causes(first)
    b, _ = two_causes(second)

    with pytest.raises(TriageError):
        cluster_merge(source=cluster_of(a[0]), into=cluster_of(b[0]), actor=make_user())


def test_a_split_moves_members_into_a_new_cluster_that_stays_after_a_rebuild():
    migration = make_migration()
    symbols, _ = two_causes(migration, n=4)
    original = cluster_of(symbols[0])
    moved = symbols[:2]

    new = cluster_split(cluster=original, trace_ids=[a.trace_id for a in moved], actor=make_user())

    assert new.pk != original.pk and new.size == 2 and new.title
    assert FailureCluster.objects.get(pk=original.pk).size == 2
    assert AuditEvent.objects.filter(verb="cluster.split", target_id=str(new.pk)).exists()
    rebuild(migration)
    assert {cluster_of(a).pk for a in moved} == {new.pk}
    assert {cluster_of(a).pk for a in symbols[2:]} == {original.pk}


def test_a_split_of_unknown_trace_ids_or_of_every_member_is_refused():
    migration = make_migration()
    symbols, _ = two_causes(migration)
    cluster = cluster_of(symbols[0])

    with pytest.raises(TriageError):
        cluster_split(cluster=cluster, trace_ids=["tr-nope"], actor=make_user())
    with pytest.raises(TriageError):
        cluster_split(cluster=cluster, trace_ids=[a.trace_id for a in symbols], actor=make_user())


def test_saving_notes_on_the_cluster_page_does_not_lock_the_title(client):
    from django.urls import reverse

    symbols, _ = two_causes(make_migration())
    cluster = cluster_of(symbols[0])
    client.force_login(make_user(role="migration owner"))
    client.post(
        reverse("cluster-action", args=[cluster.pk]),
        {"action": "update", "title": cluster.title, "notes": "ask the platform team"},
    )
    cluster = FailureCluster.objects.get(pk=cluster.pk)
    assert cluster.notes == "ask the platform team"
    assert cluster.title_locked is False
