"""Each team's channel in a workspace of 3,000 channels full of decoys (announcements, help desks, alerts, bots)."""

import random

import pytest
from django.urls import reverse

from notifications.ownership.rules import Catalog, CatalogComponent, CatalogGroup
from notifications.slack.client import Channel, SlackClient
from notifications.slack.directory import directory_sync_execute, team_channels_refresh
from notifications.slack.matching import DEFAULT_THRESHOLD, TeamInfo, choose_channel, match_channels
from notifications.slack.models import SlackChannel, TeamChannel
from notifications.slack.selectors import teams_without_channel
from runs.demo.fake_slack import FakeClock
from tests.factories import make_team, make_user

WORKSPACE_SIZE = 3000
SEED = 20261202

# slug, display name, aliases, the team's own channel (None: it has none), its decoys (archived ones end in "!").
TEAMS = [
    ("payments", "Payments", (), "payments", ["payments-announcements", "help-payments", "team-payments-bots"]),
    ("data", "Data Platform", (), "data-platform", ["data-plat!", "data-platform-alerts", "help-data-platform"]),
    ("web-frontend", "Web Frontend", (), "web-frontend-eng", ["web-frontend-alerts", "web-frontend-announcements"]),
    ("checkout", "Checkout", (), "squad-checkout", ["checkout-notifications", "checkout-oncall", "checkout!"]),
    ("identity", "Identity & Access", (), "identity-access", ["help-identity", "identity-access-bots"]),
    ("search", "Search & Discovery", (), "team-search", ["search-bots", "search-discovery-alerts"]),
    ("mobile-backend", "Mobile Backend", (), "mobile_backend", ["mobile-backend-ci", "help-mobile-backend"]),
    ("logistics", "Logistics", (), "logistics-team", ["logistics-announcements", "logistics!"]),
    ("risk", "Risk & Fraud", (), "risk-fraud", ["risk-fraud-alerts", "ask-risk"]),
    ("observability", "Observability", ("o11y",), "o11y", ["observability-alerts", "help-o11y"]),
    ("notifications", "Notifications", (), "notifications", ["notifications-bots", "help-notifications"]),
    ("platform", "Platform Engineering", (), "platform-eng", ["platform-alerts", "platform-announcements"]),
    # Its own channel has a name nothing could match: one annotated component names it.
    ("billing", "Billing", (), "money-ops", ["billing-alerts", "help-billing", "billing-announcements"]),
    # Decoys only: the team must get no channel.
    (
        "growth",
        "Growth",
        (),
        None,
        ["growth-announcements", "help-growth", "growth-alerts", "growth-bots", "growth-notifications", "growth!"],
    ),
]
ANNOTATED_COMPONENT = CatalogComponent("ledger-service", "acme/ledger-service", "billing", "#money-ops")
FILLER_WORDS = (
    "apollo borealis cobalt delta ember falcon granite harbor indigo jasper kestrel lumen meadow nimbus onyx pepper "
    "quartz raven saffron tundra umber vortex willow xenon yarrow zephyr atlas beacon cinder drift echo fjord"
).split()
FILLER_AFFIXES = ("", "", "team-", "help-", "ask-")
FILLER_SUFFIXES = ("", "", "-alerts", "-announcements", "-bots", "-notifications", "-eng", "-dev", "-2019")


def workspace(seed: int = SEED) -> list[dict]:
    """3,000 channels: every team's own channel and decoys, the rest seeded filler (some archived or private)."""
    rng = random.Random(seed)
    channels: dict[str, dict] = {}
    for _slug, _name, _aliases, own, decoys in TEAMS:
        if own:
            channels[own] = {"name": own, "is_archived": False, "is_private": False}
        for decoy in decoys:
            name = decoy.rstrip("!")
            channels[name] = {"name": name, "is_archived": decoy.endswith("!"), "is_private": False}
    while len(channels) < WORKSPACE_SIZE:
        words = "-".join(rng.sample(FILLER_WORDS, rng.choice((1, 2, 3))))
        name = f"{rng.choice(FILLER_AFFIXES)}{words}{rng.choice(FILLER_SUFFIXES)}"
        channels.setdefault(name, {"name": name, "is_archived": rng.random() < 0.1, "is_private": rng.random() < 0.05})
    listed = list(channels.values())
    rng.shuffle(listed)
    return listed


def catalog() -> Catalog:
    groups = {slug: CatalogGroup(slug, name, aliases) for slug, name, aliases, _own, _decoys in TEAMS}
    return Catalog(components={ANNOTATED_COMPONENT.repo: ANNOTATED_COMPONENT}, groups=groups)


def expected() -> dict[str, str | None]:
    return {slug: own for slug, _name, _aliases, own, _decoys in TEAMS}


def test_the_generated_workspace_has_three_thousand_channels_with_every_decoy():
    channels = workspace()

    names = {c["name"] for c in channels}
    assert len(channels) == WORKSPACE_SIZE == len(names)
    assert {"payments-announcements", "help-payments", "data-plat", "web-frontend-alerts"} <= names
    assert sum(c["is_archived"] for c in channels) > 100


def test_an_exact_or_display_name_channel_beats_every_decoy_by_name_alone():
    channels = [Channel(id=f"C{i:05d}", **c) for i, c in enumerate(workspace())]
    by_id = {c.id: c.name for c in channels}

    chosen = {}
    for slug, name, aliases, _own, _decoys in TEAMS:
        if slug == "billing":
            continue  # only its annotation names its channel
        pick = choose_channel(match_channels(TeamInfo(slug, name, aliases), channels), threshold=DEFAULT_THRESHOLD)
        chosen[slug] = by_id[pick.channel_id] if pick else None

    assert chosen == {slug: own for slug, own in expected().items() if slug != "billing"}


def test_a_team_with_only_decoy_channels_gets_no_candidate_above_the_threshold():
    channels = [Channel(id=f"C{i:05d}", **c) for i, c in enumerate(workspace())]

    candidates = match_channels(TeamInfo("growth", "Growth"), channels)

    assert candidates, "the decoys are still offered as suggestions"
    assert all(c.score < DEFAULT_THRESHOLD for c in candidates)
    assert "growth" not in {c.channel_name for c in candidates}  # archived: never offered


@pytest.mark.django_db
def test_every_team_gets_its_own_channel_after_a_sync_of_the_decoy_workspace(fake_slack, settings):
    settings.SLACK_INCLUDE_PRIVATE = True
    for channel in workspace():
        fake_slack.add_channel(channel["name"], is_archived=channel["is_archived"], is_private=channel["is_private"])
    teams = {slug: make_team(slug, name) for slug, name, _aliases, _own, _decoys in TEAMS}
    clock = FakeClock()
    client = SlackClient(
        fake_slack.token, base_url=fake_slack.url, timeout=5, clock=clock.now, sleep=clock.sleep, min_intervals={}
    )
    run = directory_sync_execute(client=client, page_size=1000)
    assert run.listed == WORKSPACE_SIZE

    team_channels_refresh(catalog=catalog(), threshold=DEFAULT_THRESHOLD)

    decided = {tc.team.slug: tc for tc in TeamChannel.objects.select_related("team", "channel")}
    assert {slug: tc.channel.name if tc.channel else None for slug, tc in decided.items()} == expected()
    assert decided["billing"].source == TeamChannel.Source.EXPLICIT
    assert "Component ledger-service" in decided["billing"].detail
    assert decided["payments"].source == TeamChannel.Source.MATCHED
    assert [row.team for row in teams_without_channel()] == [teams["growth"]]


@pytest.mark.django_db
def test_the_decoy_only_team_is_shown_in_the_unowned_queue(client):
    channels = [c for c in workspace() if c["name"].startswith(("growth", "help-growth"))]
    for i, c in enumerate(channels):
        SlackChannel.objects.create(channel_id=f"C{i:05d}", **c)
    make_team("growth", "Growth")
    team_channels_refresh(catalog=None, threshold=DEFAULT_THRESHOLD)
    client.force_login(make_user(is_superuser=True))

    html = client.get(reverse("notifications:unowned")).content.decode()

    section = html.split("Teams without a channel", 1)[1]
    assert "Growth" in section and 'value="C' in section
    assert "below 0.70" in section


@pytest.mark.django_db
def test_a_group_annotation_naming_a_missing_channel_falls_back_to_an_annotated_component():
    SlackChannel.objects.create(channel_id="C0MONEY", name="money-ops")
    team = make_team("billing", "Billing")
    groups = {"billing": CatalogGroup("billing", "Billing", (), "#billing-gone")}
    stale = Catalog(components={ANNOTATED_COMPONENT.repo: ANNOTATED_COMPONENT}, groups=groups)

    team_channels_refresh(catalog=stale, threshold=DEFAULT_THRESHOLD)

    decided = TeamChannel.objects.select_related("channel").get(team=team)
    assert decided.channel.name == "money-ops" and decided.source == TeamChannel.Source.EXPLICIT
    assert decided.detail.startswith("catalog Group billing names #billing-gone, which is not in the directory")
