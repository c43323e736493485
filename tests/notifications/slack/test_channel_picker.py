"""The unowned queue's channel picker, posted exactly as a browser submits its form."""

from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from fleetui.common.roles import MIGRATION_OWNER
from notifications.slack.directory import team_channels_refresh
from notifications.slack.models import SlackChannel, TeamChannel
from tests.factories import make_team, make_user

pytestmark = pytest.mark.django_db


class PickerForm(HTMLParser):
    """The successful controls of one team's picker form, as a browser would submit them."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.fields: list[tuple[str, str, str]] = []  # (kind, name, value)
        self.selects: dict[str, list[str]] = {}
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("action") == self.action
        elif self.inside and tag == "input":
            self.fields.append((attrs.get("type", "text"), attrs["name"], attrs.get("value", "")))
        elif self.inside and tag == "select":
            self._select = attrs["name"]
            self.selects[self._select] = []
        elif self.inside and tag == "option" and self._select:
            self.selects[self._select].append(attrs.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None

    def radios(self, name: str) -> list[str]:
        return [value for kind, n, value in self.fields if kind == "radio" and n == name]

    def submit(self, *, radio: str | None = None, option: str | None = None) -> list[tuple[str, str]]:
        """Hidden inputs, the checked radio (if any) and each select's selected option (the first by default)."""
        posted = [(name, value) for kind, name, value in self.fields if kind == "hidden"]
        for kind, name, value in self.fields:
            if kind == "radio" and value == radio:
                posted.append((name, value))
        for name, options in self.selects.items():
            posted.append((name, option if option is not None else options[0]))
        return posted


@pytest.fixture
def owner_client(client):
    client.force_login(make_user(role=MIGRATION_OWNER))
    return client


@pytest.fixture
def growth():
    for cid, name, archived in (
        ("C0ALERTS", "growth-alerts", False),
        ("C0HELP", "help-growth", False),
        ("C0GENERAL", "general", False),
        ("C0OLD", "growth-2019", True),
    ):
        SlackChannel.objects.create(channel_id=cid, name=name, is_archived=archived)
    team = make_team("growth", "Growth")
    team_channels_refresh(catalog=None, threshold=0.7)
    return team


def picker(client, team) -> PickerForm:
    action = reverse("notifications:team-channel-set", args=[team.slug])
    form = PickerForm(action)
    form.feed(client.get(reverse("notifications:unowned")).content.decode())
    return form


def post(client, team, data: list[tuple[str, str]]):
    """Post the pairs url-encoded in order, repeated names included, as the browser does."""
    return client.post(
        reverse("notifications:team-channel-set", args=[team.slug]),
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
    )


def chosen(team):
    return TeamChannel.objects.select_related("channel").get(team=team)


def test_the_radio_buttons_and_the_list_post_under_different_names(owner_client, growth):
    form = picker(owner_client, growth)

    assert form.radios("channel") == ["C0ALERTS", "C0HELP"]
    assert list(form.selects) == ["other_channel"]
    assert "C0OLD" not in form.selects["other_channel"]


def test_choosing_a_suggested_channel_by_its_radio_button_sets_it(owner_client, growth):
    data = picker(owner_client, growth).submit(radio="C0HELP")

    response = post(owner_client, growth, data)

    assert response.status_code == 302
    assert chosen(growth).channel.channel_id == "C0HELP"
    assert chosen(growth).source == TeamChannel.Source.ADMIN
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Nudges for Growth go to #help-growth."]


def test_choosing_a_channel_from_the_list_sets_it(owner_client, growth):
    data = picker(owner_client, growth).submit(option="C0GENERAL")

    post(owner_client, growth, data)

    assert chosen(growth).channel.channel_id == "C0GENERAL"


def test_when_both_a_suggestion_and_a_list_channel_are_given_the_list_wins(owner_client, growth):
    data = picker(owner_client, growth).submit(radio="C0ALERTS", option="C0GENERAL")

    post(owner_client, growth, data)

    assert chosen(growth).channel.channel_id == "C0GENERAL"


def test_submitting_neither_sets_nothing_and_says_what_to_do(owner_client, growth):
    data = picker(owner_client, growth).submit()

    response = post(owner_client, growth, data)

    assert chosen(growth).channel is None
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Choose a suggested channel or one from the list."]


def test_an_archived_or_unknown_channel_is_refused(owner_client, growth):
    for cid in ("C0OLD", "C0NOPE"):
        response = post(owner_client, growth, [("other_channel", cid)])

        assert chosen(growth).channel is None
        assert "not in the directory" in " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_a_page_rendered_before_the_list_had_its_own_name_still_sets_the_suggested_channel(owner_client, growth):
    post(owner_client, growth, [("channel", "C0HELP"), ("channel", "")])

    assert chosen(growth).channel.channel_id == "C0HELP"
