"""Matching teams to Slack channels by name."""

from notifications.slack.client import Channel
from notifications.slack.matching import (
    DEFAULT_THRESHOLD,
    TeamInfo,
    choose_channel,
    match_channels,
    normalise,
    resolve_explicit_channel,
)


def channel(name: str, cid: str | None = None, **kwargs) -> Channel:
    return Channel(id=cid or f"C-{name}", name=name, **kwargs)


PAYMENTS_CHANNELS = [
    channel("team-payments"),
    channel("payments-alerts"),
    channel("payments-eng"),
    channel("pay"),
    channel("random"),
]


def test_normalising_strips_team_prefixes_and_channel_suffixes_and_unifies_separators():
    assert normalise("Team_Payments.Alerts").key == "payments"
    assert normalise("#squad-Data Platform-eng").key == "data-platform"
    assert normalise("team-alerts").key == "alerts"


def test_plain_team_channels_rank_above_alert_channels_and_near_misses():
    ranked = [c.channel_name for c in match_channels(TeamInfo("payments", "Payments"), PAYMENTS_CHANNELS)]

    assert set(ranked[:2]) == {"team-payments", "payments-eng"}
    assert ranked.index("payments-alerts") > 1
    assert "random" not in ranked
    assert ranked.index("pay") > ranked.index("payments-alerts")


def test_the_payments_team_gets_a_confident_channel():
    chosen = choose_channel(match_channels(TeamInfo("payments"), PAYMENTS_CHANNELS), threshold=DEFAULT_THRESHOLD)

    assert chosen is not None
    assert chosen.channel_name in {"team-payments", "payments-eng"}
    assert "same name" in chosen.reason


def test_a_team_without_a_good_match_gets_no_channel():
    candidates = match_channels(TeamInfo("identity", "Identity and Access"), PAYMENTS_CHANNELS)

    assert choose_channel(candidates, threshold=DEFAULT_THRESHOLD) is None


def test_a_near_miss_alone_stays_below_the_threshold():
    candidates = match_channels(TeamInfo("payments"), [channel("pay"), channel("random")])

    assert choose_channel(candidates, threshold=DEFAULT_THRESHOLD) is None


def test_an_archived_exact_match_loses_to_a_live_team_channel():
    channels = [channel("payments", is_archived=True), channel("payments-dev")]

    chosen = choose_channel(match_channels(TeamInfo("payments"), channels), threshold=DEFAULT_THRESHOLD)

    assert chosen.channel_name == "payments-dev"


def test_a_public_channel_is_preferred_over_a_private_one_of_the_same_name():
    channels = [channel("payments", "G1", is_private=True), channel("team-payments", "C2")]

    ranked = match_channels(TeamInfo("payments"), channels)

    assert ranked[0].channel_id == "C2"


def test_display_names_and_aliases_are_matched_too():
    team = TeamInfo("checkout-platform", "Checkout Platform Team", aliases=("cko",))
    channels = [channel("cko"), channel("checkout"), channel("general")]

    chosen = choose_channel(match_channels(team, channels), threshold=DEFAULT_THRESHOLD)

    assert chosen.channel_name == "cko"


def test_the_limit_caps_the_candidates_and_the_order_is_deterministic():
    channels = [channel(f"payments-{suffix}") for suffix in ("dev", "eng", "team", "ci", "bots")]

    first = match_channels(TeamInfo("payments"), channels, limit=3)
    second = match_channels(TeamInfo("payments"), list(reversed(channels)), limit=3)

    assert len(first) == 3
    assert first == second
    assert [c.score for c in first] == sorted((c.score for c in first), reverse=True)


def test_an_explicit_mapping_resolves_by_id_even_after_a_rename():
    channels = [channel("payments-platform", "C123"), channel("payments", "C999")]

    assert resolve_explicit_channel("C123", channels).name == "payments-platform"
    assert resolve_explicit_channel("#payments", channels).id == "C999"
    assert resolve_explicit_channel("PAYMENTS", channels).id == "C999"


def test_an_explicit_mapping_to_a_missing_channel_resolves_to_nothing():
    assert resolve_explicit_channel("#gone", PAYMENTS_CHANNELS) is None
    assert resolve_explicit_channel("", PAYMENTS_CHANNELS) is None
    assert resolve_explicit_channel(None, PAYMENTS_CHANNELS) is None
