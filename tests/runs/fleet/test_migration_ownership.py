"""Per-migration ownership: a migration's owners and admins rerun, edit its prompt and nudge for it; other
migration owners read, unless made co-owners. The API and the pages agree."""

import importlib
import json
import re

import pytest
from django.apps import apps as django_apps
from django.test import Client
from django.utils import timezone

from fleetui.common.roles import ADMIN, MIGRATION_OWNER, VIEWER
from notifications.nudges.models import Nudge
from runs.fleet.models import AuditEvent, Migration, Outcome, Phase, PromptRevision
from runs.fleet.ownership import OwnershipError, can_act_on_migration, migration_owners_change
from runs.imports.models import ImportRun
from runs.imports.signals import import_finished
from runs.reruns.models import RerunBatch
from tests.factories import (
    make_api_token,
    make_attempt,
    make_failed_verify,
    make_migration,
    make_prompt_revision,
    make_repo,
    make_team,
    make_user,
)
from triage.clusters.models import FailureCluster
from triage.clusters.services import clusters_rebuild

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr("runs.reruns.services.rerun_items_enqueue", lambda *, items: None)


@pytest.fixture
def people():
    """alice owns `alpha`; bob is a migration owner of other migrations; carol is an admin; vera a viewer."""
    alice = make_user("alice", role=MIGRATION_OWNER)
    bob = make_user("bob", role=MIGRATION_OWNER)
    carol = make_user("carol", role=ADMIN)
    vera = make_user("vera", role=VIEWER)
    alpha = make_migration("alpha")
    make_prompt_revision(alpha, 1, "Migrate to JUnit 5.")
    for i in range(3):
        make_attempt(alpha, make_repo(f"acme/alpha-{i}"), outcome=Outcome.VERIFY_FAILED)
    alpha.owners.add(alice)
    beta = make_migration("beta")
    beta.owners.add(bob)
    return {"alice": alice, "bob": bob, "carol": carol, "vera": vera, "alpha": alpha, "beta": beta}


def api(user) -> Client:
    return Client(headers={"Authorization": f"Bearer {make_api_token(user)}"})


def page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


# --- the rule -----------------------------------------------------------------------


def test_owners_and_admins_may_act_and_other_migration_owners_and_viewers_may_not(people):
    alpha = people["alpha"]
    assert can_act_on_migration(people["alice"], alpha)
    assert can_act_on_migration(people["carol"], alpha)
    assert not can_act_on_migration(people["bob"], Migration.objects.get(pk=alpha.pk))
    assert not can_act_on_migration(people["vera"], alpha)


def test_a_migration_nobody_owns_yet_is_open_to_every_migration_owner_but_not_to_viewers(people):
    gamma = make_migration("gamma")
    assert can_act_on_migration(people["bob"], gamma)
    assert not can_act_on_migration(people["vera"], gamma)


def test_an_owner_who_loses_the_migration_owner_role_may_no_longer_act(people):
    alice = people["alice"]
    alice.groups.clear()
    alice = type(alice).objects.get(pk=alice.pk)
    assert not can_act_on_migration(alice, people["alpha"])


# --- reruns and prompt edits ------------------------------------------------------------------


def test_another_migration_owner_may_not_rerun_through_the_api_and_gets_a_json_403(people):
    response = post_json(api(people["bob"]), "/api/migrations/alpha/reruns", {"repos": ["acme/alpha-0"]})
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert "owner of the migration alpha" in response.json()["error"]
    assert not RerunBatch.objects.exists()


def test_the_owner_and_an_admin_rerun_through_the_api(people):
    assert (
        post_json(api(people["alice"]), "/api/migrations/alpha/reruns", {"repos": ["acme/alpha-0"]}).status_code == 201
    )
    assert (
        post_json(api(people["carol"]), "/api/migrations/alpha/reruns", {"repos": ["acme/alpha-1"]}).status_code == 201
    )
    assert RerunBatch.objects.count() == 2


def test_another_migration_owner_may_not_edit_the_prompt_through_the_api(people):
    body = {"repos": ["acme/alpha-0"], "prompt": "Ignore the tests and push to main."}
    assert post_json(api(people["bob"]), "/api/migrations/alpha/reruns", body).status_code == 403
    assert list(PromptRevision.objects.filter(migration=people["alpha"]).values_list("number", flat=True)) == [1]


def test_another_migration_owner_may_not_cancel_or_retry_a_batch_of_the_migration(people):
    owner = api(people["alice"])
    batch_id = post_json(owner, "/api/migrations/alpha/reruns", {"repos": ["acme/alpha-0"]}).json()["id"]
    stranger = api(people["bob"])
    assert stranger.post(f"/api/reruns/{batch_id}/cancel").status_code == 403
    assert stranger.post(f"/api/reruns/{batch_id}/retry-failed").status_code == 403
    assert RerunBatch.objects.get(pk=batch_id).items.filter(state="queued").count() == 1
    assert owner.post(f"/api/reruns/{batch_id}/cancel").json()["cancelled"] == 1


def test_the_rerun_page_answers_the_forbidden_page_to_another_migration_owner(people):
    client = page(people["bob"])
    preview = client.get("/migrations/alpha/reruns/new", {"repos": ["acme/alpha-0"]})
    assert preview.status_code == 403
    assert "owner of the migration alpha" in preview.content.decode()
    confirmed = client.post(
        "/migrations/alpha/reruns/new", {"repos": ["acme/alpha-0"], "prompt": "Something else.", "confirm": "1"}
    )
    assert confirmed.status_code == 403
    assert not RerunBatch.objects.exists()
    assert PromptRevision.objects.filter(migration=people["alpha"]).count() == 1


def test_the_owner_confirms_a_rerun_with_an_edited_prompt_on_the_page(people):
    response = page(people["alice"]).post(
        "/migrations/alpha/reruns/new", {"repos": ["acme/alpha-0"], "prompt": "Keep the tests.", "confirm": "1"}
    )
    assert response.status_code == 302
    assert PromptRevision.objects.filter(migration=people["alpha"]).count() == 2


def test_the_batch_page_shows_cancel_only_to_who_may_act(people):
    batch_id = post_json(api(people["alice"]), "/api/migrations/alpha/reruns", {"repos": ["acme/alpha-0"]}).json()["id"]
    assert "Cancel…" in page(people["alice"]).get(f"/reruns/{batch_id}/").content.decode()
    assert "Cancel…" not in page(people["bob"]).get(f"/reruns/{batch_id}/").content.decode()
    assert page(people["bob"]).post(f"/reruns/{batch_id}/cancel/").status_code == 403


def test_the_repository_and_cluster_pages_disable_rerun_and_nudge_for_who_may_not_act(people, clustered):
    for path in ("/migrations/alpha/repos/", f"/clusters/{clustered.pk}/", "/migrations/alpha/"):
        own = page(people["alice"]).get(path).content.decode()
        other = page(people["bob"]).get(path).content.decode()
        if path != "/migrations/alpha/":
            assert (
                'formaction="/migrations/alpha/reruns/new"' in own
                and 'formaction="/migrations/alpha/nudges/new"' in own
            )
            assert 'formaction="/migrations/alpha/reruns/new"' not in other
            assert 'formaction="/migrations/alpha/nudges/new"' not in other
            assert re.search(r"<button[^>]*disabled[^>]*>Rerun selected…", other)
            assert re.search(r"<button[^>]*disabled[^>]*>Nudge owners…", other)
        assert "/migrations/alpha/nudges/" in own and "/migrations/alpha/nudges/" not in other


# --- nudges -----------------------------------------------------------------------------


def a_draft(migration) -> Nudge:
    return Nudge.objects.create(migration=migration, team=make_team("payments"), text="Please review.")


def test_another_migration_owner_may_not_draft_or_send_nudges_through_the_api(people):
    nudge = a_draft(people["alpha"])
    stranger = api(people["bob"])
    drafted = post_json(stranger, "/api/migrations/alpha/nudges", {"repos": ["acme/alpha-0"]})
    sent = stranger.post(f"/api/nudges/{nudge.pk}/send")
    assert drafted.status_code == 403 and sent.status_code == 403
    assert "owner of the migration alpha" in sent.json()["error"]
    nudge.refresh_from_db()
    assert nudge.status == Nudge.Status.DRAFT and Nudge.objects.count() == 1


def test_the_owner_drafts_nudges_through_the_api(people):
    assert post_json(api(people["alice"]), "/api/migrations/alpha/nudges", {}).status_code == 201


def test_the_nudge_pages_refuse_another_migration_owner(people):
    nudge = a_draft(people["alpha"])
    client = page(people["bob"])
    assert client.get("/migrations/alpha/nudges/").status_code == 403
    assert client.post("/migrations/alpha/nudges/new", {}).status_code == 403
    assert client.post("/migrations/alpha/nudges/send", {"nudges": [nudge.pk]}).status_code == 403
    assert client.post(f"/nudges/{nudge.pk}/edit", {"text": "Hijacked."}).status_code == 403
    assert client.post(f"/nudges/{nudge.pk}/cancel").status_code == 403
    snooze = client.post("/ownership/teams/payments/snooze/", {"days": 7, "migration": "alpha"})
    assert snooze.status_code == 403
    nudge.refresh_from_db()
    assert nudge.status == Nudge.Status.DRAFT and nudge.text == "Please review."
    assert page(people["alice"]).get("/migrations/alpha/nudges/").status_code == 200


# --- co-owners --------------------------------------------------------------------------


def test_an_owner_adds_a_co_owner_on_the_migration_page_who_may_then_rerun(people):
    response = page(people["alice"]).post("/migrations/alpha/owners", {"action": "add", "username": "bob"})
    assert response.status_code == 302
    assert set(people["alpha"].owners.values_list("username", flat=True)) == {"alice", "bob"}
    event = AuditEvent.objects.get(verb="migration.owners_changed")
    assert event.actor == people["alice"] and event.migration == people["alpha"]
    assert event.data["added"] == ["bob"] and event.data["removed"] == []
    assert post_json(api(people["bob"]), "/api/migrations/alpha/reruns", {"repos": ["acme/alpha-0"]}).status_code == 201


def test_another_migration_owner_may_not_make_themselves_a_co_owner(people):
    response = page(people["bob"]).post("/migrations/alpha/owners", {"action": "add", "username": "bob"})
    assert response.status_code == 403
    assert list(people["alpha"].owners.values_list("username", flat=True)) == ["alice"]
    assert not AuditEvent.objects.filter(verb="migration.owners_changed").exists()


def test_the_migration_page_shows_the_co_owner_form_to_owners_and_admins_only(people):
    assert 'action="/migrations/alpha/owners"' in page(people["alice"]).get("/migrations/alpha/").content.decode()
    assert 'action="/migrations/alpha/owners"' in page(people["carol"]).get("/migrations/alpha/").content.decode()
    other = page(people["bob"]).get("/migrations/alpha/").content.decode()
    assert 'action="/migrations/alpha/owners"' not in other and "alice" in other


def test_a_viewer_cannot_be_made_an_owner_and_the_last_owner_stays(people):
    alpha, alice = people["alpha"], people["alice"]
    with pytest.raises(OwnershipError, match="migration owner role"):
        migration_owners_change(migration=alpha, actor=alice, add=[people["vera"]])
    with pytest.raises(OwnershipError, match="at least one owner"):
        migration_owners_change(migration=alpha, actor=alice, remove=[alice])
    refused = page(alice).post("/migrations/alpha/owners", {"action": "remove", "username": "alice"}, follow=True)
    assert "at least one owner" in refused.content.decode()
    assert list(alpha.owners.values_list("username", flat=True)) == ["alice"]


def test_an_admin_removes_an_owner_and_the_change_is_audited(people):
    alpha = people["alpha"]
    alpha.owners.add(people["bob"])
    page(people["carol"]).post("/migrations/alpha/owners", {"action": "remove", "username": "bob"})
    assert list(alpha.owners.values_list("username", flat=True)) == ["alice"]
    event = AuditEvent.objects.get(verb="migration.owners_changed")
    assert event.actor == people["carol"] and event.data["removed"] == ["bob"]


def test_owners_changed_in_the_django_admin_are_audited_and_the_creator_owns_a_new_migration(people):
    admin = make_user("root", is_staff=True, is_superuser=True)
    client = page(admin)
    inline = {
        "prompt_revisions-TOTAL_FORMS": "0",
        "prompt_revisions-INITIAL_FORMS": "0",
        "prompt_revisions-MIN_NUM_FORMS": "0",
        "prompt_revisions-MAX_NUM_FORMS": "1000",
    }
    created = client.post("/admin/runs/migration/add/", {"slug": "delta", "title": "Delta", **inline})
    assert created.status_code == 302, created.content.decode()[:2000]
    delta = Migration.objects.get(slug="delta")
    assert list(delta.owners.values_list("username", flat=True)) == ["root"]
    changed = client.post(
        f"/admin/runs/migration/{delta.pk}/change/",
        {"slug": "delta", "title": "Delta", "owners": [admin.pk, people["bob"].pk], **inline},
    )
    assert changed.status_code == 302, changed.content.decode()[:2000]
    events = list(AuditEvent.objects.filter(verb="migration.owners_changed", migration=delta).order_by("id"))
    assert [e.data["added"] for e in events] == [["root"], ["bob"]]


def test_who_started_an_import_owns_the_migrations_it_brought_in(people):
    run = ImportRun.objects.create(
        trigger="manual", requested_by=people["bob"], status=ImportRun.Status.RUNNING, started_at=timezone.now()
    )
    epsilon = make_migration("epsilon")
    import_finished.send(sender=ImportRun, run=run)
    assert list(epsilon.owners.values_list("username", flat=True)) == ["bob"]
    assert list(people["alpha"].owners.values_list("username", flat=True)) == ["alice"]
    assert AuditEvent.objects.filter(verb="migration.owners_changed", migration=epsilon).exists()


def test_a_scheduled_import_leaves_new_migrations_open_to_every_migration_owner(people):
    run = ImportRun.objects.create(trigger="schedule", status=ImportRun.Status.RUNNING, started_at=timezone.now())
    zeta = make_migration("zeta")
    import_finished.send(sender=ImportRun, run=run)
    assert not zeta.owners.exists() and can_act_on_migration(people["bob"], zeta)


def test_the_data_migration_makes_each_named_owner_the_first_owner(people):
    step = importlib.import_module("runs.migrations.0008_migration_owners")
    named = make_migration("eta", owner=people["bob"])
    unnamed = make_migration("theta")
    step.owners_from_owner(django_apps, None)
    assert list(named.owners.values_list("username", flat=True)) == ["bob"]
    assert not unnamed.owners.exists()


# --- a cluster's rerun leaves pre-existing failures out, as the page does ----------------------------


@pytest.fixture
def clustered(people):
    alpha = people["alpha"]
    for i in range(3):
        make_failed_verify(alpha, "symbol", repo=make_repo(f"acme/sym-{i}"))
    legacy = make_repo("acme/legacy")
    make_failed_verify(alpha, "symbol", repo=legacy, phase=Phase.BASELINE)
    make_failed_verify(alpha, "symbol", repo=legacy)
    clusters_rebuild(migration=alpha, threshold=0.5)
    return FailureCluster.objects.filter(migration=alpha, members__repository=legacy).distinct().get()


def test_a_cluster_rerun_through_the_api_leaves_pre_existing_failures_out_unless_asked(people, clustered):
    page_preview = page(people["alice"]).get("/migrations/alpha/reruns/new", {"cluster": clustered.pk})
    owner = api(people["alice"])
    default = post_json(owner, "/api/migrations/alpha/reruns", {"cluster": clustered.pk}).json()
    assert default["skipped"] == [
        {"repo": "acme/legacy", "reason": "pre-existing failure: its baseline failed before any change"}
    ]
    assert page_preview.context["count"] == default["items"] == 3
    RerunBatch.objects.all().delete()
    opted = post_json(owner, "/api/migrations/alpha/reruns", {"cluster": clustered.pk, "include_pre_existing": True})
    assert opted.json()["items"] == 4 and opted.json()["skipped"] == []


def test_the_openapi_document_describes_the_opt_in_for_pre_existing_failures(people):
    document = api(people["vera"]).get("/api/openapi.json").json()
    body = document["paths"]["/migrations/{slug}/reruns"]["post"]["requestBody"]["content"]["application/json"]
    schema = body["schema"]
    schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema else schema
    option = schema["properties"]["include_pre_existing"]
    assert option["default"] is False and "pre-existing" in option["description"]
