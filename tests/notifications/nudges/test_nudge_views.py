"""Nudge, unowned-queue, directory and history pages: roles, forms, confirmation, escaping and query bounds."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fleetui.common.roles import MIGRATION_OWNER, VIEWER
from notifications.nudges.models import Nudge
from notifications.slack.models import SlackChannel, TeamChannel
from runs.fleet.models import AuditEvent, Outcome
from tests.factories import make_attempt, make_migration, make_repo, make_team, make_user
from tests.notifications.nudges.ready import make_ready_pr

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client):
    client.force_login(make_user(role=MIGRATION_OWNER))
    return client


def setup_migration():
    migration = make_migration("java-21", "Java 21")
    team = make_team("payments", "Payments")
    channel = SlackChannel.objects.create(channel_id="C0PAY", name="team-payments", is_member=True)
    TeamChannel.objects.create(team=team, channel=channel, source="matched", score=0.9)
    attempt = make_attempt(migration, make_repo("acme/api", team=team), outcome=Outcome.SUCCEEDED)
    make_ready_pr(attempt)
    return migration, team


def test_a_viewer_gets_403_on_every_owner_page_and_action(client):
    migration, team = setup_migration()
    client.force_login(make_user(role=VIEWER))

    assert client.get(reverse("notifications:unowned")).status_code == 403
    assert client.get(reverse("notifications:nudge-drafts", args=[migration.slug])).status_code == 403
    assert client.post(reverse("notifications:nudge-create", args=[migration.slug])).status_code == 403
    assert client.post(reverse("notifications:nudge-send", args=[migration.slug])).status_code == 403
    assert client.post(reverse("notifications:directory-sync")).status_code == 403
    assert not Nudge.objects.exists()


def test_nudge_owners_with_selected_repos_drafts_and_shows_a_preview(owner_client):
    migration, team = setup_migration()

    response = owner_client.post(
        reverse("notifications:nudge-create", args=[migration.slug]), {"repos": ["acme/api"]}, follow=True
    )

    assert response.status_code == 200
    draft = Nudge.objects.get(migration=migration, team=team, status="draft")
    assert draft.channel.name == "team-payments"
    page = response.content.decode()
    assert "slack-preview" in page and "acme/api" in page and "#team-payments" in page


def test_a_cluster_of_another_migration_answers_404_and_drafts_nothing(owner_client):
    from triage.clusters.models import FailureCluster

    migration, _ = setup_migration()
    other = FailureCluster.objects.create(migration=make_migration("other"), key="k", title="t", kind="verify")

    response = owner_client.post(
        reverse("notifications:nudge-create", args=[migration.slug]), {"cluster": str(other.pk)}
    )

    assert response.status_code == 404
    assert not Nudge.objects.exists()


def test_sending_needs_the_confirmation_box(owner_client, django_capture_on_commit_callbacks):
    migration, team = setup_migration()
    owner_client.post(reverse("notifications:nudge-create", args=[migration.slug]))
    draft = Nudge.objects.get(status="draft")

    with django_capture_on_commit_callbacks() as callbacks:
        owner_client.post(reverse("notifications:nudge-send", args=[migration.slug]), {"nudges": [draft.pk]})

    draft.refresh_from_db()
    assert draft.status == "draft" and callbacks == []


def test_sending_claims_the_drafts_and_queues_one_task_each(
    owner_client, django_capture_on_commit_callbacks, monkeypatch
):
    from notifications.nudges import tasks

    queued = []
    monkeypatch.setattr(tasks.nudge_send_task, "apply_async", lambda args, countdown: queued.append((args, countdown)))
    migration, team = setup_migration()
    owner_client.post(reverse("notifications:nudge-create", args=[migration.slug]))
    draft = Nudge.objects.get(status="draft")

    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(
            reverse("notifications:nudge-send", args=[migration.slug]), {"nudges": [draft.pk], "confirm": "1"}
        )
        owner_client.post(
            reverse("notifications:nudge-send", args=[migration.slug]), {"nudges": [draft.pk], "confirm": "1"}
        )

    draft.refresh_from_db()
    assert draft.status == "sending"
    assert queued == [([draft.pk], 0)]
    assert AuditEvent.objects.filter(verb="nudge.send", target_id=str(draft.pk)).count() == 1


def test_editing_a_draft_rebuilds_its_blocks_and_escapes_the_text_on_the_page(owner_client):
    migration, team = setup_migration()
    owner_client.post(reverse("notifications:nudge-create", args=[migration.slug]))
    draft = Nudge.objects.get(status="draft")

    owner_client.post(
        reverse("notifications:nudge-edit", args=[draft.pk]), {"text": "Hi <script>x()</script> <!channel>"}
    )
    page = owner_client.get(reverse("notifications:nudge-drafts", args=[migration.slug])).content.decode()

    draft.refresh_from_db()
    # The editor's plain text is sent as mrkdwn: its <, > and & are escaped, so nothing becomes a mention.
    assert draft.blocks[1]["text"]["text"] == "Hi &lt;script&gt;x()&lt;/script&gt; &lt;!channel&gt;"
    assert "<!channel>" not in draft.blocks[1]["text"]["text"]
    assert "<script>x()" not in page
    # The editor shows the text as typed, HTML-escaped once for the page.
    assert "Hi &lt;script&gt;x()&lt;/script&gt; &lt;!channel&gt;</textarea>" in page
    assert AuditEvent.objects.filter(verb="nudge.edited", target_id=str(draft.pk)).count() == 1


def test_the_unowned_queue_lists_repos_without_team_and_sets_an_override(owner_client):
    make_repo("acme/orphan")
    make_team("search", "Search")

    page = owner_client.get(reverse("notifications:unowned"))
    owner_client.post(reverse("notifications:override-set"), {"repo": "acme/orphan", "team": "search"})

    assert "acme/orphan" in page.content.decode()
    assert make_repo("acme/orphan").team.slug == "search"


def test_the_unowned_queue_shows_candidates_and_an_admin_chooses_one(owner_client):
    team = make_team("growth", "Growth")
    channel = SlackChannel.objects.create(channel_id="C0GROW", name="growth-2019")
    TeamChannel.objects.create(
        team=team, candidates=[{"id": "C0GROW", "name": "growth-2019", "score": 0.41, "reason": "similar"}]
    )

    page = owner_client.get(reverse("notifications:unowned")).content.decode()
    owner_client.post(reverse("notifications:team-channel-set", args=["growth"]), {"channel": "C0GROW"})

    assert "growth-2019" in page and "0.41" in page
    chosen = TeamChannel.objects.get(team=team)
    assert chosen.channel == channel and chosen.source == "admin"


def test_the_history_page_filters_by_team_with_bounded_queries(owner_client, django_assert_max_num_queries):
    migration, team = setup_migration()
    other = make_team("checkout")
    for i in range(5):
        for t in (team, other):
            Nudge.objects.create(
                migration=migration,
                team=t,
                text="x",
                status="sent",
                sent_at=timezone.now() - timedelta(days=i),
                slack_ts=f"17.{i}",
                permalink=f"https://slack.test/p{i}",
            )

    with django_assert_max_num_queries(12):
        response = owner_client.get(
            reverse("notifications:nudge-history"), {"migration": migration.slug, "team": "payments"}
        )

    assert response.status_code == 200
    assert response.content.decode().count("open in Slack") == 5


def test_snoozing_a_team_from_the_page_writes_an_audit_event(owner_client):
    migration, team = setup_migration()

    owner_client.post(
        reverse("notifications:team-snooze", args=["payments"]), {"days": "3", "migration": migration.slug}
    )

    assert team.snoozes.get().migration == migration
    assert AuditEvent.objects.filter(verb="team.snoozed").exists()


def test_a_team_snoozed_from_its_draft_gets_no_draft_next_time(owner_client):
    migration, team = setup_migration()
    owner_client.post(reverse("notifications:nudge-create", args=[migration.slug]), {"repos": ["acme/api"]})
    drafts_url = reverse("notifications:nudge-drafts", args=[migration.slug])
    page = owner_client.get(drafts_url).content.decode()
    assert reverse("notifications:team-snooze", args=["payments"]) in page

    response = owner_client.post(
        reverse("notifications:team-snooze", args=["payments"]),
        {"days": "7", "migration": migration.slug, "next": drafts_url},
    )
    assert response.status_code == 302 and response["Location"] == drafts_url

    Nudge.objects.all().delete()
    owner_client.post(reverse("notifications:nudge-create", args=[migration.slug]), {"repos": ["acme/api"]})
    assert not Nudge.objects.filter(team=team).exists()
