"""The drafts page is a scannable list: one collapsed row per team, PR lines capped and expandable, Slack
markup rendered (never shown raw), a bounded number of queries, and sending only after confirmation."""

import re

import pytest
from django.urls import reverse

from fleetui.common.roles import MIGRATION_OWNER
from notifications.nudges.drafts import nudge_drafts_create
from notifications.nudges.models import Nudge
from notifications.slack.models import SlackChannel, TeamChannel
from runs.fleet.models import Outcome
from tests.factories import make_attempt, make_migration, make_repo, make_team, make_user
from tests.notifications.nudges.ready import make_ready_pr

pytestmark = pytest.mark.django_db


def fleet(teams: int, prs_each: int):
    migration = make_migration("java-21", "Java 21 & <more>")
    for t in range(teams):
        team = make_team(f"team-{t:02d}", f"Team {t:02d} & co")
        channel = SlackChannel.objects.create(channel_id=f"C{t:04d}", name=f"team-{t:02d}", is_member=True)
        TeamChannel.objects.create(team=team, channel=channel, source="matched", score=0.9)
        for n in range(prs_each):
            repo = make_repo(f"acme/t{t:02d}-svc-{n:02d}", team=team)
            make_ready_pr(make_attempt(migration, repo, outcome=Outcome.SUCCEEDED))
    nudge_drafts_create(migration=migration, user=make_user(is_superuser=True))
    return migration


@pytest.fixture
def owner_client(client):
    client.force_login(make_user(role=MIGRATION_OWNER))
    return client


def test_each_draft_is_one_collapsed_row_with_its_counts(owner_client):
    migration = fleet(teams=3, prs_each=2)

    page = owner_client.get(reverse("notifications:nudge-drafts", args=[migration.slug])).content.decode()

    assert page.count('<li class="nudge-row"') == 3
    assert page.count("<details>") == 3 and "<details open>" not in page
    assert "<strong>3</strong> drafts · <strong>6</strong> pull requests listed" in page
    assert page.count('form="nudge-send-form"') == 3


def test_a_long_pr_list_shows_five_lines_and_the_rest_behind_show_all(owner_client):
    migration = fleet(teams=1, prs_each=12)

    page = owner_client.get(reverse("notifications:nudge-drafts", args=[migration.slug])).content.decode()

    first, _, rest = page.partition("Show all 12 pull request lines")
    assert rest, "the rest of the list is behind a show-all control"
    assert len(re.findall(r"acme/t00-svc-\d\d#", first.split("slack-lines")[1])) == 5
    assert len(re.findall(r"acme/t00-svc-\d\d#", rest.split("</details>")[0])) == 7


def test_slack_markup_is_rendered_not_shown_raw(owner_client):
    migration = fleet(teams=1, prs_each=1)

    page = owner_client.get(reverse("notifications:nudge-drafts", args=[migration.slug])).content.decode()
    preview = page.split('class="slack-preview"')[1]

    assert "|Java 21" not in page and "&amp;amp;" not in page
    assert ":white_check_mark:" not in preview.replace('title=":white_check_mark:"', "")
    assert "✅" in preview and "👋" in preview
    assert "Java 21 &amp; &lt;more&gt;</a>" in preview
    assert "<more>" not in page


def test_the_page_keeps_its_queries_bounded_as_drafts_grow(owner_client, django_assert_max_num_queries):
    migration = fleet(teams=12, prs_each=3)
    url = reverse("notifications:nudge-drafts", args=[migration.slug])

    with django_assert_max_num_queries(14):
        response = owner_client.get(url)

    assert response.content.decode().count('<li class="nudge-row"') == 12


def test_bulk_send_asks_for_confirmation_and_names_each_team_and_channel(owner_client):
    migration = fleet(teams=2, prs_each=1)
    drafts = list(Nudge.objects.order_by("team__slug"))

    page = owner_client.get(reverse("notifications:nudge-drafts", args=[migration.slug])).content.decode()
    response = owner_client.post(
        reverse("notifications:nudge-send", args=[migration.slug]), {"nudges": [n.pk for n in drafts]}, follow=True
    )

    assert 'id="nudge-send-form"' in page and "data-confirm-send" in page
    assert 'data-label="Team 00 &amp; co → #team-00 (1 PR)"' in page
    assert "Tick the box to confirm the send." in response.content.decode()
    assert set(Nudge.objects.values_list("status", flat=True)) == {"draft"}


def test_saving_a_draft_comes_back_to_it_opened(owner_client):
    fleet(teams=2, prs_each=1)
    draft = Nudge.objects.order_by("team__slug").last()

    response = owner_client.post(reverse("notifications:nudge-edit", args=[draft.pk]), {"text": "New text"})
    page = owner_client.get(response["Location"]).content.decode()

    assert response["Location"].endswith(f"?open={draft.pk}#nudge-{draft.pk}")
    assert page.count("<details open>") == 1
    assert page.index("<details open>") > page.index(f'id="nudge-{draft.pk}"')
