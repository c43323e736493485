"""The Slack channel directory sync and each team's channel, with the real client against the fake Slack."""

import pytest

from notifications.ownership.rules import Catalog, CatalogGroup
from notifications.slack.client import SlackClient, SlackRateLimitedError
from notifications.slack.directory import directory_sync_execute, team_channel_choose, team_channels_refresh
from notifications.slack.models import DirectorySyncRun, SlackChannel, TeamChannel
from notifications.slack.selectors import teams_without_channel
from runs.demo.fake_slack import FakeClock
from tests.factories import make_team, make_user

pytestmark = pytest.mark.django_db


def client_for(fake, **kwargs) -> SlackClient:
    clock = FakeClock()
    kwargs.setdefault("min_intervals", {})
    return SlackClient(fake.token, base_url=fake.url, timeout=5, clock=clock.now, sleep=clock.sleep, **kwargs)


def sync(fake, **kwargs) -> DirectorySyncRun:
    page_size = kwargs.pop("page_size", 1000)
    return directory_sync_execute(client=client_for(fake, **kwargs), page_size=page_size)


def test_it_stores_every_channel_across_pages_including_an_empty_page(fake_slack, settings):
    settings.SLACK_INCLUDE_PRIVATE = True
    names = [f"chan-{i:02d}" for i in range(23)]
    for name in names:
        fake_slack.add_channel(name)
    fake_slack.empty_page_offsets = {10}

    run = sync(fake_slack, page_size=10)

    assert run.status == DirectorySyncRun.Status.SUCCEEDED
    assert run.listed == run.created == 23
    assert sorted(SlackChannel.objects.values_list("name", flat=True)) == names
    assert len(fake_slack.calls_of("conversations.list")) == 4


def test_it_keeps_archived_and_private_channels_with_their_flags(fake_slack, settings):
    settings.SLACK_INCLUDE_PRIVATE = True
    fake_slack.add_channel("payments-old", is_archived=True)
    fake_slack.add_channel("risk-private", is_private=True, is_member=True)
    fake_slack.add_channel("payments")

    sync(fake_slack)

    rows = {c.name: c for c in SlackChannel.objects.all()}
    assert rows["payments-old"].is_archived and not rows["payments-old"].is_private
    assert rows["risk-private"].is_private and rows["risk-private"].is_member
    assert not rows["payments"].is_archived


def test_a_renamed_channel_keeps_its_id_and_takes_the_new_name(fake_slack):
    cid = fake_slack.add_channel("payments")
    sync(fake_slack)
    fake_slack.rename_channel(cid, "team-payments")

    run = sync(fake_slack)

    assert run.renamed == 1 and run.created == 0
    assert list(SlackChannel.objects.values_list("channel_id", "name")) == [(cid, "team-payments")]


def test_a_channel_gone_from_the_listing_is_marked_not_deleted(fake_slack):
    gone = fake_slack.add_channel("old-team")
    fake_slack.add_channel("payments")
    sync(fake_slack)
    del fake_slack.channels[gone]

    run = sync(fake_slack)

    assert run.gone == 1
    row = SlackChannel.objects.get(channel_id=gone)
    assert row.seen_in_sync is False


def test_a_429_that_outlasts_the_retries_marks_the_run_for_a_retry_with_slacks_delay(fake_slack):
    fake_slack.add_channel("payments")
    fake_slack.script_rate_limited("conversations.list", times=3)
    run = DirectorySyncRun.objects.create(trigger="manual")

    with pytest.raises(SlackRateLimitedError) as raised:
        directory_sync_execute(run=run, client=client_for(fake_slack, max_rate_limit_retries=1))

    assert raised.value.retry_after == 1.0
    run.refresh_from_db()
    assert run.status == DirectorySyncRun.Status.RETRYING
    assert not SlackChannel.objects.exists()


def test_a_429_within_the_retry_budget_still_completes_the_sync(fake_slack):
    fake_slack.add_channel("payments")
    fake_slack.script_rate_limited("conversations.list", times=1)

    run = sync(fake_slack, max_rate_limit_retries=2)

    assert run.status == DirectorySyncRun.Status.SUCCEEDED
    assert fake_slack.rate_limited_count == 1
    assert SlackChannel.objects.filter(name="payments").exists()


def test_the_task_retries_a_rate_limited_sync_after_retry_after(fake_slack, settings, monkeypatch):
    from notifications.slack import tasks

    settings.SLACK_API_URL, settings.SLACK_BOT_TOKEN = fake_slack.url, fake_slack.token
    fake_slack.script_rate_limited("conversations.list", times=10)
    monkeypatch.setattr("notifications.slack.client.time.sleep", lambda s: None)
    run = DirectorySyncRun.objects.create(trigger="manual")
    retried = {}

    def fake_retry(*, args=None, countdown=None, exc=None):
        retried.update(args=args, countdown=countdown)
        return RuntimeError("retry")

    monkeypatch.setattr(tasks.slack_directory_sync_task, "retry", fake_retry)
    with pytest.raises(RuntimeError):
        tasks.slack_directory_sync_task.run(run.pk)

    assert retried == {"args": [run.pk], "countdown": 1.0}


def add_rows(*specs) -> dict[str, SlackChannel]:
    rows = {}
    for i, (name, private, archived) in enumerate(specs):
        rows[name] = SlackChannel.objects.create(
            channel_id=f"C{i:06d}", name=name, is_private=private, is_archived=archived
        )
    return rows


def test_the_catalog_annotation_decides_before_name_matching():
    rows = add_rows(("payments", False, False), ("pay-announce", False, False))
    team = make_team("payments", "Payments")
    catalog = Catalog(groups={"payments": CatalogGroup("payments", "Payments", (), "#pay-announce")})

    team_channels_refresh(catalog=catalog, threshold=0.7)

    decided = TeamChannel.objects.get(team=team)
    assert decided.channel == rows["pay-announce"]
    assert decided.source == TeamChannel.Source.EXPLICIT


def test_without_an_annotation_a_confident_name_match_is_chosen_with_its_candidates():
    rows = add_rows(("team-checkout", False, False), ("general", False, False))
    team = make_team("checkout", "Checkout")

    team_channels_refresh(catalog=None, threshold=0.7)

    decided = TeamChannel.objects.get(team=team)
    assert decided.channel == rows["team-checkout"]
    assert decided.source == TeamChannel.Source.MATCHED
    assert decided.candidates[0]["name"] == "team-checkout"
    assert decided.score == decided.candidates[0]["score"]


def test_a_best_match_below_the_threshold_sends_the_team_to_the_unowned_queue():
    add_rows(("growth-hacks-2019", False, False))
    team = make_team("growth", "Growth")

    team_channels_refresh(catalog=None, threshold=0.95)

    decided = TeamChannel.objects.get(team=team)
    assert decided.channel is None
    assert decided.candidates and decided.candidates[0]["score"] < 0.95
    assert team in [row.team for row in teams_without_channel()]


def test_an_admins_choice_survives_the_next_refresh():
    rows = add_rows(("team-search", False, False), ("search-discovery", False, False))
    team = make_team("search", "Search")
    admin = make_user(is_superuser=True)
    team_channels_refresh(catalog=None)
    team_channel_choose(team=team, channel=rows["search-discovery"], user=admin)

    team_channels_refresh(catalog=None)

    decided = TeamChannel.objects.get(team=team)
    assert decided.channel == rows["search-discovery"]
    assert decided.source == TeamChannel.Source.ADMIN and decided.confirmed_by == admin


def test_catalog_aliases_help_the_match():
    rows = add_rows(("o11y", False, False))
    team = make_team("observability", "Observability")
    catalog = Catalog(groups={"observability": CatalogGroup("observability", "Observability", ("o11y",))})

    team_channels_refresh(catalog=catalog, threshold=0.7)

    assert TeamChannel.objects.get(team=team).channel == rows["o11y"]


def test_the_demo_workspace_loads_into_the_fake_and_syncs_like_slack(fake_slack, tmp_path, settings):
    import json

    from runs.demo.slack import demo_slack_populate

    settings.SLACK_INCLUDE_PRIVATE = True
    channels = [
        {"id": "C0PAY", "name": "team-payments", "is_private": False, "is_archived": False},
        {"id": "C0RISK", "name": "risk-fraud-private", "is_private": True, "is_archived": False},
        {"id": "C0OLD", "name": "payments-old", "is_private": False, "is_archived": True},
    ]
    file = tmp_path / "slack-channels.json"
    file.write_text(json.dumps(channels))

    added = demo_slack_populate(fake_slack, channels_file=file)
    again = demo_slack_populate(fake_slack, channels_file=file)
    sync(fake_slack)

    assert (added, again) == (3, 0)
    rows = {c.channel_id: c for c in SlackChannel.objects.all()}
    assert set(rows) == {"C0PAY", "C0RISK", "C0OLD"}
    assert rows["C0RISK"].is_private and rows["C0OLD"].is_archived


def test_the_directory_page_shows_syncs_and_sync_now_queues_one(
    client, django_capture_on_commit_callbacks, monkeypatch
):
    from fleetui.common.roles import MIGRATION_OWNER
    from notifications.slack import tasks

    queued = []
    monkeypatch.setattr(tasks.slack_directory_sync_task, "delay", lambda run_id: queued.append(run_id))
    client.force_login(make_user(role=MIGRATION_OWNER))

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/slack/directory/sync/")
    page = client.get("/slack/directory/")

    run = DirectorySyncRun.objects.get()
    assert queued == [run.pk] and run.trigger == "manual"
    assert f"#{run.pk}" in page.content.decode()


def test_the_rate_limited_send_task_gives_the_nudge_back_after_its_last_retry(monkeypatch):
    from notifications.nudges import tasks
    from notifications.nudges.models import Nudge
    from tests.factories import make_migration

    nudge = Nudge.objects.create(migration=make_migration(), team=make_team("payments"), text="x", status="sending")

    def limited(*, nudge_id):
        raise SlackRateLimitedError("still limited", retry_after=5)

    monkeypatch.setattr("notifications.nudges.tasks.nudge_deliver", limited)
    tasks.nudge_send_task.push_request(retries=tasks.nudge_send_task.max_retries)
    try:
        tasks.nudge_send_task.run(nudge.pk)
    finally:
        tasks.nudge_send_task.pop_request()

    nudge.refresh_from_db()
    assert nudge.status == "failed" and "429" in nudge.error
