"""A team's inbox settings: owners and admins change them (audited), viewers only read them."""

import pytest

from fleetui.common.roles import ADMIN, MIGRATION_OWNER, VIEWER
from notifications.slack.models import SlackChannel
from notifications.teams.models import TeamInboxSettings
from runs.fleet.models import AuditEvent
from tests.factories import make_team, make_user

pytestmark = pytest.mark.django_db


def login(client, role):
    client.force_login(make_user(role=role))
    return client


@pytest.fixture
def team():
    SlackChannel.objects.create(channel_id="C0ESCAL", name="payments-escalations")
    return make_team("payments", "Payments")


def test_a_viewer_cannot_change_a_teams_settings(client, team):
    login(client, VIEWER)

    response = client.post("/teams/payments/settings", {"digest_enabled": "on", "stale_days": "3"})

    assert response.status_code == 403
    assert not TeamInboxSettings.objects.exists()
    page = client.get("/teams/payments/")
    assert page.context["settings_form"] is None and b"Save settings" not in page.content
    assert b"Send today" not in page.content


@pytest.mark.parametrize("role", [MIGRATION_OWNER, ADMIN])
def test_an_owner_or_admin_saves_the_settings_and_the_change_is_audited(client, team, role):
    login(client, role)

    response = client.post(
        "/teams/payments/settings",
        {"digest_enabled": "on", "stale_days": "3", "escalation_channel": "#payments-escalations"},
    )

    assert response.status_code == 302
    saved = TeamInboxSettings.objects.get(team=team)
    assert (saved.digest_enabled, saved.stale_days, saved.escalation_channel.channel_id) == (True, 3, "C0ESCAL")
    event = AuditEvent.objects.get(verb="team.inbox_settings_changed")
    assert event.data["after"]["stale_days"] == 3 and event.data["before"]["digest_enabled"] is False
    assert client.get("/teams/payments/").context["stale_days"] == 3


def test_the_escalation_channel_may_be_named_by_id_and_an_unknown_one_is_refused(client, team):
    login(client, MIGRATION_OWNER)

    by_id = client.post("/teams/payments/settings", {"escalation_channel": "C0ESCAL"})
    unknown = client.post("/teams/payments/settings", {"escalation_channel": "#nowhere"})

    assert by_id.status_code == 302
    assert unknown.status_code == 400 and b"No such channel" in unknown.content
    assert TeamInboxSettings.objects.get(team=team).escalation_channel.name == "payments-escalations"


def test_saving_the_same_settings_again_records_no_second_event(client, team):
    login(client, MIGRATION_OWNER)

    for _ in range(2):
        client.post("/teams/payments/settings", {"stale_days": "5"})

    assert AuditEvent.objects.filter(verb="team.inbox_settings_changed").count() == 1


def test_a_viewer_cannot_send_a_digest_or_escalate(client, team):
    login(client, VIEWER)

    assert client.post("/teams/payments/digest").status_code == 403
    assert client.get("/teams/payments/escalate").status_code == 403
    assert client.post("/teams/payments/escalate", {"confirm": "yes"}).status_code == 403
