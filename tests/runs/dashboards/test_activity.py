"""The activity page shows the audit trail, filtered, paginated and escaped."""

import pytest
from django.urls import reverse

from runs.fleet.audit import audit_event_record
from tests.factories import make_migration, make_repo, make_user

pytestmark = pytest.mark.django_db


def record(migration, actor, verb, target):
    return audit_event_record(actor=actor, verb=verb, target=target, migration=migration)


def test_it_lists_who_did_what_newest_first_and_filters_by_migration_actor_and_verb(client):
    owner = make_user("olga", role="migration owner")
    other = make_user("pat", role="migration owner")
    java, node = make_migration("java-21"), make_migration("node-20")
    record(java, owner, "cluster.status_changed", make_repo("acme/a"))
    record(node, other, "nudge.send", make_repo("acme/b"))
    client.force_login(make_user(role="viewer"))

    everything = client.get(reverse("activity")).content.decode()
    assert everything.index("nudge.send") < everything.index("cluster.status_changed")

    by_migration = client.get(reverse("activity"), {"migration": "java-21"}).content.decode()
    assert "cluster.status_changed" in by_migration and "nudge.send" not in by_migration
    by_actor = client.get(reverse("activity"), {"actor": "pat"}).content.decode()
    assert "nudge.send" in by_actor and "cluster.status_changed" not in by_actor
    by_verb = client.get(reverse("activity"), {"verb": "cluster."}).content.decode()
    assert "cluster.status_changed" in by_verb and "nudge.send" not in by_verb


def test_target_names_are_escaped(client):
    record(make_migration("m"), make_user(role="admin"), "rerun.created", make_repo("acme/<script>x</script>"))
    client.force_login(make_user(role="viewer"))
    page = client.get(reverse("activity")).content.decode()
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page


@pytest.mark.parametrize("count", [3, 80])
def test_the_page_takes_a_bounded_number_of_queries(client, count, django_assert_max_num_queries):
    migration, actor = make_migration("m"), make_user(role="admin")
    repo = make_repo("acme/a")
    for _ in range(count):
        record(migration, actor, "cluster.notes_changed", repo)
    client.force_login(make_user(role="viewer"))
    with django_assert_max_num_queries(8):
        assert client.get(reverse("activity")).status_code == 200


def test_an_unknown_migration_filter_is_a_404(client):
    client.force_login(make_user(role="viewer"))
    assert client.get(reverse("activity"), {"migration": "nope"}).status_code == 404
