"""The real slack_sdk WebClient, through SlackClient, against the fake Slack Web API."""

import pytest

from fleetui.common.errors import PermanentAPIError, RateLimitedError, TransientAPIError
from notifications.slack.client import Channel, PermanentSlackError, SlackClient, TransientSlackError
from runs.demo.fake_slack import FakeClock, FakeSlack


def make_client(fake: FakeSlack, clock: FakeClock | None = None, **kwargs) -> SlackClient:
    clock = clock or FakeClock()
    return SlackClient(fake.token, base_url=fake.url, timeout=5, clock=clock.now, sleep=clock.sleep, **kwargs)


def test_it_follows_the_cursor_through_an_empty_page_until_the_cursor_is_empty(fake_slack):
    names = [f"team-{i:03d}" for i in range(25)]
    for name in names:
        fake_slack.add_channel(name)
    fake_slack.empty_page_offsets = {10}

    channels = list(make_client(fake_slack).list_channels(include_private=False, limit=10))

    assert [c.name for c in channels] == names
    cursors = [params.get("cursor") for params in fake_slack.calls_of("conversations.list")]
    assert len(cursors) == 4  # pages of 10, the empty page, then 10 and 5
    assert cursors[0] is None and all(cursors[1:])


def test_it_reads_channel_fields_from_slacks_payload(fake_slack):
    cid = fake_slack.add_channel(
        "payments", num_members=12, topic="Card payments", purpose="Payments team", is_member=True
    )

    (channel,) = make_client(fake_slack).list_channels(include_private=False)

    assert channel == Channel(
        id=cid,
        name="payments",
        is_private=False,
        is_archived=False,
        is_member=True,
        num_members=12,
        topic="Card payments",
        purpose="Payments team",
    )


def test_it_skips_archived_channels_unless_asked_to_keep_them(fake_slack):
    fake_slack.add_channel("payments")
    fake_slack.add_channel("payments-old", is_archived=True)
    client = make_client(fake_slack)

    default = {c.name for c in client.list_channels(include_private=False)}
    everything = {c.name: c for c in client.list_channels(include_private=False, exclude_archived=False)}

    assert default == {"payments"}
    assert set(everything) == {"payments", "payments-old"}
    assert everything["payments-old"].is_archived


def test_it_lists_private_channels_only_when_asked(fake_slack):
    fake_slack.add_channel("payments")
    fake_slack.add_channel("payments-private", is_private=True)
    client = make_client(fake_slack)

    public = {c.name for c in client.list_channels(include_private=False)}
    both = {c.name: c for c in client.list_channels(include_private=True)}

    assert public == {"payments"}
    assert set(both) == {"payments", "payments-private"}
    assert both["payments-private"].is_private
    assert fake_slack.calls_of("conversations.list")[-1]["types"] == "public_channel,private_channel"


def test_it_falls_back_to_public_channels_when_groups_read_is_missing(fake_slack):
    fake_slack.scopes.discard("groups:read")
    fake_slack.add_channel("payments")
    fake_slack.add_channel("payments-private", is_private=True)
    client = make_client(fake_slack)

    names = {c.name for c in client.list_channels(include_private=True)}

    assert names == {"payments"}
    assert client.last_listing.private_included is False
    assert client.last_listing.missing_scope == "groups:read"


def test_it_retries_a_429_after_waiting_the_retry_after_seconds(fake_slack):
    fake_slack.add_channel("payments")
    fake_slack.script_rate_limited("conversations.list")
    clock = FakeClock()

    names = [c.name for c in make_client(fake_slack, clock).list_channels(include_private=False)]

    assert names == ["payments"]
    assert fake_slack.rate_limited_count == 1
    assert len(fake_slack.calls_of("conversations.list")) == 2
    assert len(clock.sleeps) == 1 and 1 <= clock.sleeps[0] < 2


def test_it_raises_a_transient_error_when_still_rate_limited_after_the_retries(fake_slack):
    fake_slack.add_channel("payments")
    fake_slack.script_rate_limited("conversations.list", times=3)

    with pytest.raises(TransientSlackError) as caught:
        list(make_client(fake_slack, max_rate_limit_retries=2).list_channels(include_private=False))

    assert isinstance(caught.value, RateLimitedError)
    assert caught.value.code == "ratelimited"
    assert caught.value.retry_after == 1
    assert fake_slack.rate_limited_count == 3


def test_it_raises_a_transient_error_on_a_server_error(fake_slack):
    fake_slack.add_channel("payments")
    fake_slack.script("conversations.list", status=503, body={"ok": False, "error": "service_unavailable"})

    with pytest.raises(TransientAPIError) as caught:
        list(make_client(fake_slack).list_channels(include_private=False))

    assert caught.value.status == 503


def test_it_raises_a_transient_error_when_slack_does_not_answer_in_time(fake_slack):
    cid = fake_slack.add_channel("payments", is_member=True)
    fake_slack.script("chat.postMessage", delay=1.0)
    client = SlackClient(fake_slack.token, base_url=fake_slack.url, timeout=0.2)

    with pytest.raises(TransientSlackError) as caught:
        client.post_message(cid, text="hello", blocks=[])

    assert caught.value.code == "timeout"


def test_it_raises_a_transient_error_when_nothing_listens():
    client = SlackClient("xoxb-x", base_url="http://127.0.0.1:9/api/", timeout=1)

    with pytest.raises(TransientSlackError):
        client.get_permalink("C1", "1.1")


def test_it_raises_a_permanent_error_for_a_bad_token(fake_slack):
    client = SlackClient("xoxb-wrong", base_url=fake_slack.url, timeout=5)

    with pytest.raises(PermanentSlackError) as caught:
        list(client.list_channels(include_private=False))

    assert isinstance(caught.value, PermanentAPIError)
    assert caught.value.code == "invalid_auth"


def test_it_reports_not_in_channel_when_posting_to_a_private_channel_without_membership(fake_slack):
    cid = fake_slack.add_channel("payments-private", is_private=True, is_member=False)

    with pytest.raises(PermanentSlackError) as caught:
        make_client(fake_slack).post_message(cid, text="hello", blocks=[])

    assert caught.value.code == "not_in_channel"
    assert fake_slack.posts == []


def test_it_cannot_join_a_private_channel_or_an_unknown_one(fake_slack):
    private = fake_slack.add_channel("payments-private", is_private=True)
    client = make_client(fake_slack)

    with pytest.raises(PermanentSlackError) as private_error:
        client.join_channel(private)
    with pytest.raises(PermanentSlackError) as unknown_error:
        client.join_channel("C0NOPE")

    assert private_error.value.code == "method_not_supported_for_channel_type"
    assert unknown_error.value.code == "channel_not_found"


def test_it_joins_a_public_channel_then_posts_updates_and_links_the_message(fake_slack):
    cid = fake_slack.add_channel("payments")
    client = make_client(fake_slack)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*3 PRs* wait for review"}}]

    with pytest.raises(PermanentSlackError):
        client.post_message(cid, text="3 PRs wait for review", blocks=blocks)
    joined = client.join_channel(cid)
    posted = client.post_message(cid, text="3 PRs wait for review", blocks=blocks)
    client.update_message(cid, posted.ts, text="2 PRs wait for review", blocks=blocks)
    link = client.get_permalink(cid, posted.ts)

    assert joined.is_member
    assert posted.channel == cid
    assert fake_slack.posts == [
        {"channel": cid, "ts": posted.ts, "text": "2 PRs wait for review", "blocks": blocks, "thread_ts": None}
    ]
    assert fake_slack.updates[-1]["text"] == "2 PRs wait for review"
    assert cid in link and posted.ts.replace(".", "") in link


def test_it_posts_a_reply_in_a_thread(fake_slack):
    cid = fake_slack.add_channel("payments", is_member=True)
    client = make_client(fake_slack)

    parent = client.post_message(cid, text="nudge", blocks=[])
    client.post_message(cid, text="reminder", blocks=[], thread_ts=parent.ts)

    assert fake_slack.posts[-1]["thread_ts"] == parent.ts


def test_it_keeps_the_channel_id_when_a_channel_is_renamed_between_syncs(fake_slack):
    cid = fake_slack.add_channel("payments")
    client = make_client(fake_slack)

    before = {c.id: c.name for c in client.list_channels(include_private=False)}
    fake_slack.rename_channel(cid, "payments-platform")
    after = {c.id: c.name for c in client.list_channels(include_private=False)}

    assert before == {cid: "payments"}
    assert after == {cid: "payments-platform"}


def test_an_unpaced_sync_of_many_pages_trips_the_tier_2_limit():
    clock = FakeClock()
    fake = _tier2_workspace(clock, channels=21 * 100)
    try:
        client = make_client(fake, clock, min_intervals={})
        assert len(list(client.list_channels(include_private=False, limit=100))) == 2100
    finally:
        fake.stop()

    assert fake.rate_limited_count > 0


def test_a_paced_sync_of_twenty_thousand_channels_twice_never_trips_the_tier_2_limit():
    clock = FakeClock()
    fake = _tier2_workspace(clock, channels=20_000)
    try:
        client = make_client(fake, clock)
        first = list(client.list_channels(include_private=False, limit=1000))
        second = list(client.list_channels(include_private=False, limit=1000))
    finally:
        fake.stop()

    assert len(first) == len(second) == 20_000
    assert len({c.id for c in first}) == 20_000
    assert client.last_listing.pages == 20
    assert fake.rate_limited_count == 0


def _tier2_workspace(clock: FakeClock, *, channels: int) -> FakeSlack:
    fake = FakeSlack(clock=clock, tier2_per_minute=20)
    for i in range(channels):
        fake.add_channel(f"channel-{i:05d}")
    return fake.start()
