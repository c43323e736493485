"""The editor edits plain text with links; it becomes Slack mrkdwn on save and reads back the same."""

import pytest
from django.urls import reverse

from fleetui.common.roles import MIGRATION_OWNER
from notifications.nudges.compose import intro_text
from notifications.nudges.drafts import DraftTextInvalid, nudge_draft_update, nudge_drafts_create
from notifications.nudges.plaintext import mrkdwn_to_plain, plain_to_mrkdwn
from notifications.slack.models import SlackChannel, TeamChannel
from runs.fleet.models import Outcome
from tests.factories import make_attempt, make_migration, make_repo, make_team, make_user
from tests.notifications.nudges.ready import make_ready_pr

PLAIN_TEXTS = [
    "Search & Discovery: a < b > c",
    "Hi *Payments* :wave: see [Java 21 & friends](https://fleet.test/migrations/java-21/?a=1&b=2) now.",
    "Bare link https://github.com/acme/api/pull/7, then the end.",
    "A link with parentheses [spec](https://en.wikipedia.org/wiki/Foo_%28bar%29) stays one link.",
    "&amp; typed as text stays &amp; and &lt;b&gt; stays too",
    "> quoted line\n_italic_ ~strike~ `code <x>` *bold*\n\nlast line",
    "<!channel> and <@U123> typed here are only text",
]


@pytest.mark.parametrize("plain", PLAIN_TEXTS)
def test_plain_text_round_trips_through_mrkdwn(plain):
    assert mrkdwn_to_plain(plain_to_mrkdwn(plain)) == plain


def test_and_lt_gt_are_escaped_and_links_become_slack_links():
    assert plain_to_mrkdwn("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert (
        plain_to_mrkdwn("see [Q&A <faq>](https://x.test/?a=1&b=2).")
        == "see <https://x.test/?a=1&amp;b=2|Q&amp;A &lt;faq&gt;>."
    )
    assert plain_to_mrkdwn("go to https://x.test/a?b=1&c=2.") == "go to <https://x.test/a?b=1&amp;c=2>."


def test_nothing_typed_becomes_a_mention_or_a_hidden_link():
    sent = plain_to_mrkdwn("<!channel> <@U123> <https://evil.test|harmless> [x](javascript:alert(1))")
    assert "<!channel>" not in sent and "<@U123>" not in sent
    assert "<https://evil.test|" not in sent
    assert "javascript:" in sent and "<javascript" not in sent


def test_slack_markup_reads_as_plain_text_in_the_editor():
    mrkdwn = (
        "Hi *Search &amp; Discovery* :wave: the *<https://fleet.test/m/j/?a=1&amp;b=2|JUnit 5 &lt;beta&gt;>* migration"
    )
    plain = mrkdwn_to_plain(mrkdwn)
    assert plain == "Hi *Search & Discovery* :wave: the *[JUnit 5 <beta>](https://fleet.test/m/j/?a=1&b=2)* migration"
    assert plain_to_mrkdwn(plain) == mrkdwn


@pytest.mark.django_db
def test_a_drafts_generated_intro_survives_the_editor_unchanged():
    migration = make_migration("java-21", "Java 21 & <friends>", description="Old & new | both")
    team = make_team("search", "Search & Discovery")
    make_ready_pr(make_attempt(migration, make_repo("acme/api", team=team), outcome=Outcome.SUCCEEDED))
    lines = [
        {
            "kind": "pr",
            "pr": 1,
            "repo": "acme/api",
            "url": "https://x.test/1",
            "number": 1,
            "age_days": 2,
            "checks": "success",
            "review": "none",
        },
        {"kind": "failing", "repo": "acme/broken"},
    ]
    text = intro_text(team=team, migration=migration, why="Old & new", due=None, lines=lines)

    assert "&amp;" in text and "<http" in text
    assert plain_to_mrkdwn(mrkdwn_to_plain(text)) == text


@pytest.mark.django_db
def test_the_editor_shows_plain_text_and_saving_it_sends_the_same_message(client):
    migration = make_migration("java-21", "Java 21")
    team = make_team("search", "Search & Discovery")
    channel = SlackChannel.objects.create(channel_id="C0S", name="team-search", is_member=True)
    TeamChannel.objects.create(team=team, channel=channel, source="matched", score=0.9)
    make_ready_pr(make_attempt(migration, make_repo("acme/api", team=team), outcome=Outcome.SUCCEEDED))
    owner = make_user(role=MIGRATION_OWNER)
    client.force_login(owner)
    (draft,) = nudge_drafts_create(migration=migration, user=owner).drafts
    sent_before = draft.text
    url = reverse("notifications:nudge-drafts", args=[migration.slug])

    page = client.get(url).content.decode()
    textarea = page.split(f'id="text-{draft.pk}" name="text" rows="8">')[1].split("</textarea>")[0]
    assert "&amp;amp;" not in textarea and "|Java 21>" not in textarea
    assert "Search &amp; Discovery" in textarea  # "&" as typed, HTML-escaped once for the page
    assert "[Java 21](http://" in textarea

    shown = mrkdwn_to_plain(draft.text)
    client.post(reverse("notifications:nudge-edit", args=[draft.pk]), {"text": shown})
    draft.refresh_from_db()
    assert draft.text == sent_before


@pytest.mark.django_db
def test_a_text_too_long_once_escaped_is_refused():
    owner = make_user(is_superuser=True)
    migration = make_migration("java-21", "Java 21")
    team = make_team("search", "Search")
    make_ready_pr(make_attempt(migration, make_repo("acme/api", team=team), outcome=Outcome.SUCCEEDED))
    (draft,) = nudge_drafts_create(migration=migration, user=owner).drafts

    with pytest.raises(DraftTextInvalid):
        nudge_draft_update(nudge=draft, text="&" * 1000, user=owner)
