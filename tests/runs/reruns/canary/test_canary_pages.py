"""The canary on the rerun form and the batch page: the option, the phase, the reason and the Expand button."""

import re

import pytest
from django.urls import reverse

from fleetui.common.roles import MIGRATION_OWNER, VIEWER
from runs.fleet.models import AuditEvent
from runs.reruns.models import RerunBatch, RerunPhase, RerunState
from tests.factories import make_user
from tests.runs.reruns.canary.support import NAMES, failing_fleet

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr("runs.reruns.services.rerun_items_enqueue", lambda *, items: None)


@pytest.fixture
def owned(client):
    migration, repos, cluster = failing_fleet("canary-pages")
    owner = make_user(role=MIGRATION_OWNER)
    migration.owners.add(owner)
    client.force_login(owner)
    return migration, cluster, owner


def test_the_rerun_form_previews_and_starts_a_canary_by_percentage(owned, client):
    migration, cluster, _ = owned
    url = reverse("rerun-new", kwargs={"slug": migration.slug})
    fields = {"cluster": cluster.pk, "canary": "1", "canary_percent": "30", "canary_min_fixed": "70"}
    preview = client.get(url, fields).content.decode()
    assert 'name="canary" value="1" checked' in preview
    assert re.search(r'id="canary-count"><strong>3</strong> of 10 run first', preview)
    assert preview.count('class="badge canary-pick">canary<') == 3 + 1  # three rows and the legend
    response = client.post(url, {**fields, "confirm": "1"})
    batch = RerunBatch.objects.get()
    assert response.status_code == 302 and response.url == reverse("rerun-detail", args=[batch.pk])
    assert batch.phase == RerunPhase.CANARY and batch.canary_size == 3 and batch.canary_min_fixed == 0.7
    assert batch.canary_requested == {"fraction": 0.3}


def test_a_bad_canary_on_the_form_is_refused_with_the_reason(owned, client):
    migration, cluster, _ = owned
    url = reverse("rerun-new", kwargs={"slug": migration.slug})
    page = client.post(url, {"cluster": cluster.pk, "canary": "1", "canary_size": "3", "canary_percent": "20"})
    assert page.status_code == 400 and "not both" in page.content.decode()
    assert not RerunBatch.objects.exists()


def paused_batch(client, migration, cluster):
    url = reverse("rerun-new", kwargs={"slug": migration.slug})
    client.post(url, {"cluster": cluster.pk, "canary": "1", "canary_size": "4", "confirm": "1"})
    batch = RerunBatch.objects.get()
    batch.items.filter(canary=True).update(state=RerunState.SUCCEEDED, outcome="still_failing")
    RerunBatch.objects.filter(pk=batch.pk).update(
        phase=RerunPhase.PAUSED, paused_reason="1 of 4 fixed, below 60% <script>"
    )
    return batch


def test_a_paused_batch_shows_its_reason_and_an_owner_expands_it_after_confirming(owned, client):
    migration, cluster, owner = owned
    batch = paused_batch(client, migration, cluster)
    page = client.get(reverse("rerun-detail", args=[batch.pk])).content.decode()
    assert 'id="rerun-phase">paused<' in page
    assert "Paused: 1 of 4 fixed, below 60% &lt;script&gt;" in page and "<script>" not in page.split("Paused:")[1][:80]
    assert re.search(r'<summary class="button primary">Expand anyway…</summary>\s*<form method="post"', page)
    edit = re.search(r'<form method="post" action="([^"]+)" id="rerun-edit-prompt">(.*?)</form>', page, re.S)
    assert edit.group(1) == reverse("rerun-new", kwargs={"slug": migration.slug})
    assert f'name="cluster" value="{cluster.pk}"' in edit.group(2) and 'name="canary_size" value="4"' in edit.group(2)
    # The edit form opens the rerun form on the same selection and canary: the paused batch holds nothing.
    reopened = client.post(edit.group(1), dict(re.findall(r'name="([^"]+)" value="([^"]*)"', edit.group(2))))
    assert reopened.status_code == 200 and re.search(
        r'id="canary-count"><strong>4</strong> of 10', reopened.content.decode()
    )
    response = client.post(reverse("rerun-expand", args=[batch.pk]))
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.phase == RerunPhase.EXPANDED
    assert not batch.items.filter(state=RerunState.HELD).exists()
    event = AuditEvent.objects.get(verb="rerun.canary_expanded", target_id=str(batch.pk))
    assert event.actor == owner and event.data["automatic"] is False


def test_viewers_see_the_phase_but_no_expand_button_and_may_not_expand(owned, client):
    migration, cluster, _ = owned
    batch = paused_batch(client, migration, cluster)
    client.force_login(make_user(role=VIEWER))
    page = client.get(reverse("rerun-detail", args=[batch.pk])).content.decode()
    assert 'id="rerun-phase">paused<' in page and "Expand anyway" not in page and "rerun-edit-prompt" not in page
    assert client.post(reverse("rerun-expand", args=[batch.pk])).status_code == 403
    assert RerunBatch.objects.get(pk=batch.pk).phase == RerunPhase.PAUSED
    assert len(NAMES) == batch.items.count()
