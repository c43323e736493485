"""By default a nudge lists only pull requests ready to merge; a toggle lists the rest, marked not ready, and
no message ever asks code owners to merge a draft with failing CI that no internal reviewer approved."""

import json

import pytest
from django.urls import reverse

from fleetui.common.roles import MIGRATION_OWNER
from notifications.nudges.drafts import nudge_drafts_create
from notifications.nudges.models import Nudge
from notifications.nudges.readiness import not_ready_reasons
from notifications.nudges.sending import nudge_send
from notifications.slack.client import SlackClient
from notifications.slack.models import SlackChannel, TeamChannel
from runs.demo.fake_slack import FakeClock
from runs.fleet.models import Outcome, PullRequest
from tests.factories import make_api_token, make_attempt, make_migration, make_repo, make_team, make_user
from tests.notifications.nudges.ready import make_ready_pr

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return make_user(is_superuser=True)


def payments(channel_id="C0PAY"):
    team = make_team("payments", "Payments")
    channel = SlackChannel.objects.create(channel_id=channel_id, name="team-payments", is_member=True)
    TeamChannel.objects.create(team=team, channel=channel, source="matched", score=0.9)
    return team


def pr(migration, name, team, **fields):
    return make_ready_pr(make_attempt(migration, make_repo(name, team=team), outcome=Outcome.SUCCEEDED), **fields)


def mixed_fleet():
    migration = make_migration("java-21", "Java 21")
    team = payments()
    prs = {
        "ready": pr(migration, "acme/ready", team),
        "draft": pr(migration, "acme/wip", team, draft=True),
        "red": pr(migration, "acme/red", team, checks="failure"),
        "unreviewed": pr(migration, "acme/unreviewed", team, approved=False),
        "worst": pr(migration, "acme/worst", team, draft=True, checks="failure", approved=False),
    }
    return migration, team, prs


def listed(nudge):
    return [line["repo"] for line in nudge.lines if line["kind"] == "pr"]


def test_only_ready_prs_are_listed_by_default_and_the_rest_are_counted_with_their_reasons(owner):
    migration, _, _ = mixed_fleet()

    result = nudge_drafts_create(migration=migration, user=owner)

    (draft,) = result.drafts
    assert listed(draft) == ["acme/ready"]
    left = {line["repo"]: line["reasons"] for line in draft.lines if line["kind"] == "left_out"}
    assert left == {
        "acme/wip": ["still a draft"],
        "acme/red": ["CI failing"],
        "acme/unreviewed": ["not approved by an internal reviewer"],
        "acme/worst": ["not approved by an internal reviewer", "still a draft", "CI failing"],
    }
    assert result.left_out_prs == 4
    assert result.left_out == {"not approved by an internal reviewer": 2, "still a draft": 2, "CI failing": 2}
    sent_text = json.dumps(draft.blocks)
    assert "acme/worst" not in sent_text and "acme/wip" not in sent_text
    assert draft.text.startswith("Hi *Payments* :wave: 1 pull request from the")


def test_the_toggle_lists_the_rest_marked_not_ready_and_asks_to_merge_only_the_ready_one(owner):
    migration, team, _ = mixed_fleet()
    pr(migration, "acme/zeta", team)

    (draft,) = nudge_drafts_create(migration=migration, user=owner, include_unready=True).drafts

    assert listed(draft) == ["acme/ready", "acme/red", "acme/unreviewed", "acme/wip", "acme/worst", "acme/zeta"]
    lines = [
        line for block in draft.blocks[3:] if block["type"] == "section" for line in block["text"]["text"].split("\n")
    ]
    # The ready ones come first, whatever their names.
    assert "acme/ready#" in lines[0] and "acme/zeta#" in lines[1]
    assert not any("not ready" in line for line in lines[:2])
    worst = next(line for line in lines if "acme/worst#" in line)
    assert "not ready to merge yet: not approved by an internal reviewer, still a draft, CI failing" in worst
    assert sum("not ready to merge yet" in line for line in lines) == 4
    assert "2 pull requests from the" in draft.text and "4 more are listed for your information only" in draft.text


def test_with_only_unready_prs_listed_the_message_asks_nothing_to_be_merged(owner):
    migration = make_migration("java-21", "Java 21")
    pr(migration, "acme/wip", payments(), draft=True)

    (draft,) = nudge_drafts_create(migration=migration, user=owner, include_unready=True).drafts

    assert "Please review and merge" not in draft.text
    assert "none ready to merge yet" in draft.text


def test_ci_counts_as_passing_when_green_or_when_github_has_none_and_the_agents_checks_passed():
    migration = make_migration()
    team = make_team("t")
    green = pr(migration, "acme/a", team)
    unknown = pr(migration, "acme/b", team, checks="")
    running = pr(migration, "acme/c", team, checks="pending")
    failed_attempt = make_attempt(migration, make_repo("acme/d", team=team), outcome=Outcome.VERIFY_FAILED)
    no_checks_failed_agent = make_ready_pr(failed_attempt, checks="")
    never_read = pr(migration, "acme/e", team, draft=None)

    assert not_ready_reasons(green, approved=True) == []
    assert not_ready_reasons(unknown, approved=True) == []
    assert not_ready_reasons(running, approved=True) == ["CI still running"]
    assert not_ready_reasons(no_checks_failed_agent, approved=True) == ["no CI result"]
    assert not_ready_reasons(never_read, approved=True) == ["draft state not read from GitHub yet"]


def test_an_approval_of_an_earlier_attempt_does_not_pass_the_gate(owner):
    migration = make_migration("java-21")
    team = payments()
    old = pr(migration, "acme/api", team)
    newer = make_attempt(migration, old.repository, outcome=Outcome.SUCCEEDED)
    PullRequest.objects.filter(pk=old.pk).update(attempt=newer)

    result = nudge_drafts_create(migration=migration, user=owner)

    assert result.drafts == [] and result.left_out == {"not approved by an internal reviewer": 1}


def test_the_drafts_page_offers_the_toggle_and_says_how_many_were_left_out_and_why(client, owner):
    migration, team, _ = mixed_fleet()
    client.force_login(make_user(role=MIGRATION_OWNER))

    response = client.post(reverse("notifications:nudge-create", args=[migration.slug]), follow=True)

    page = response.content.decode()
    assert 'name="include_unready"' in page
    assert "4 pull request(s) not ready to merge were left out" in page
    assert "4</strong> left out as not ready to merge" in page
    assert "4 pull requests left out: 2 not approved by an internal reviewer, 2 still a draft, 2 CI failing." in page

    # The draft's own button lists the left-out ones in the same draft, marked not ready.
    client.post(
        reverse("notifications:nudge-create", args=[migration.slug]),
        {"repos": ["acme/wip", "acme/red", "acme/unreviewed", "acme/worst"], "include_unready": "1"},
    )
    (draft,) = Nudge.objects.filter(team=team)
    assert len(listed(draft)) == 5 and not [line for line in draft.lines if line["kind"] == "left_out"]


def test_the_api_takes_the_toggle_and_reports_what_it_left_out(client):
    migration, _, _ = mixed_fleet()
    token = make_api_token(make_user(role=MIGRATION_OWNER), name="w")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    url = f"/api/migrations/{migration.slug}/nudges"

    default = client.post(url, {}, content_type="application/json", **auth)
    wrong = client.post(url, {"include_unready": "yes"}, content_type="application/json", **auth)
    everything = client.post(url, {"include_unready": True}, content_type="application/json", **auth)

    assert default.status_code == 201
    (first,) = default.json()
    assert first["pull_requests"] == 1 and first["added"] is None and first["left_out"] == 4
    assert first["left_out_reasons"]["still a draft"] == 2
    assert wrong.status_code == 400
    (second,) = everything.json()
    assert second["id"] == first["id"] and second["pull_requests"] == 5 and len(second["added"]) == 4
    assert second["left_out"] == 0


def test_a_pr_whose_ci_broke_after_drafting_is_sent_marked_not_ready(fake_slack, owner):
    migration = make_migration("java-21", "Java 21")
    team = make_team("payments", "Payments")
    cid = fake_slack.add_channel("team-payments", is_member=True)
    channel = SlackChannel.objects.create(channel_id=cid, name="team-payments", is_member=True)
    TeamChannel.objects.create(team=team, channel=channel, source="matched", score=1.0)
    good = pr(migration, "acme/api", team)
    broke = pr(migration, "acme/web", team)
    (draft,) = nudge_drafts_create(migration=migration, user=owner).drafts
    PullRequest.objects.filter(pk=broke.pk).update(checks="failure")
    clock = FakeClock()
    client = SlackClient(
        fake_slack.token, base_url=fake_slack.url, timeout=5, min_intervals={}, clock=clock.now, sleep=clock.sleep
    )

    sent = nudge_send(nudge_id=draft.pk, user=owner, client=client)

    assert sent.status == "sent"
    posted = json.dumps(fake_slack.posts[0]["blocks"])
    assert "acme/web#" in posted and "not ready to merge yet: CI failing" in posted
    assert fake_slack.posts[0]["blocks"][1]["text"]["text"].startswith("Hi *Payments* :wave: 1 pull request from the")
    assert good.pk in [line["pr"] for line in Nudge.objects.get(pk=draft.pk).lines if line.get("ready")]


def test_a_nudge_whose_prs_were_all_merged_since_is_not_sent(fake_slack, owner):
    migration = make_migration("java-21", "Java 21")
    team = make_team("payments", "Payments")
    cid = fake_slack.add_channel("team-payments", is_member=True)
    channel = SlackChannel.objects.create(channel_id=cid, name="team-payments", is_member=True)
    TeamChannel.objects.create(team=team, channel=channel, source="matched", score=1.0)
    only = pr(migration, "acme/api", team)
    (draft,) = nudge_drafts_create(migration=migration, user=owner).drafts
    PullRequest.objects.filter(pk=only.pk).update(state="merged")
    clock = FakeClock()
    client = SlackClient(
        fake_slack.token, base_url=fake_slack.url, timeout=5, min_intervals={}, clock=clock.now, sleep=clock.sleep
    )

    failed = nudge_send(nudge_id=draft.pk, user=owner, client=client)

    assert failed.status == "failed" and "nothing to send" in failed.error
    assert fake_slack.calls_of("chat.postMessage") == []


def test_a_draft_listing_unready_prs_can_leave_them_out_again(client, owner):
    migration, team, prs = mixed_fleet()
    (draft,) = nudge_drafts_create(migration=migration, user=owner, include_unready=True).drafts
    client.force_login(make_user(role=MIGRATION_OWNER))
    page = client.get(reverse("notifications:nudge-drafts", args=[migration.slug])).content.decode()
    assert "4 listed pull requests are not ready to merge" in page

    response = client.post(reverse("notifications:nudge-ready-only", args=[draft.pk]), follow=True)

    draft.refresh_from_db()
    assert listed(draft) == ["acme/ready"]
    assert sorted(line["repo"] for line in draft.lines if line["kind"] == "left_out") == [
        "acme/red",
        "acme/unreviewed",
        "acme/wip",
        "acme/worst",
    ]
    assert list(draft.pull_requests.all()) == [prs["ready"]]
    assert "1 pull request from the" in draft.text and "not ready" not in json.dumps(draft.blocks)
    assert "4 pull request(s) not ready left out." in response.content.decode()


def test_leaving_out_every_listed_pr_is_refused(client, owner):
    migration = make_migration("java-21", "Java 21")
    pr(migration, "acme/wip", payments(), draft=True)
    (draft,) = nudge_drafts_create(migration=migration, user=owner, include_unready=True).drafts
    client.force_login(make_user(role=MIGRATION_OWNER))

    response = client.post(reverse("notifications:nudge-ready-only", args=[draft.pk]), follow=True)

    draft.refresh_from_db()
    assert listed(draft) == ["acme/wip"]
    assert "cancel it instead" in response.content.decode()
