"""The drafts page in Chromium: rows open and close, the PR list expands, and a bulk send posts only after a
confirmation that names every team and channel."""

import pytest
from django.contrib.auth.models import Group

from fleetui.common.roles import MIGRATION_OWNER
from notifications.nudges.drafts import nudge_drafts_create
from notifications.nudges.models import Nudge
from notifications.slack.models import SlackChannel, TeamChannel
from runs.fleet.models import Outcome
from tests.factories import make_attempt, make_migration, make_repo, make_team, make_user
from tests.notifications.nudges.ready import make_ready_pr

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-pass-1"


def seed():
    migration = make_migration("java-21", "Java 21")
    for slug, name, prs in (("payments", "Payments", 8), ("search", "Search & Discovery", 2)):
        team = make_team(slug, name)
        channel = SlackChannel.objects.create(channel_id=f"C-{slug}", name=f"team-{slug}", is_member=True)
        TeamChannel.objects.create(team=team, channel=channel, source="matched", score=0.9)
        for n in range(prs):
            make_ready_pr(make_attempt(migration, make_repo(f"acme/{slug}-{n}", team=team), outcome=Outcome.SUCCEEDED))
    nudge_drafts_create(migration=migration, user=make_user(is_superuser=True))
    return migration


def test_an_owner_opens_a_draft_and_sends_two_after_confirming(page, live_server, screenshots, monkeypatch):
    from notifications.nudges import tasks

    queued = []
    monkeypatch.setattr(tasks.nudge_send_task, "apply_async", lambda args, countdown: queued.append(args[0]))
    migration = seed()
    # An earlier transactional test may have flushed the role groups the data migration made.
    Group.objects.get_or_create(name=MIGRATION_OWNER)
    make_user("owner", role=MIGRATION_OWNER, password=PASSWORD)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("owner")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/migrations/{migration.slug}/nudges/")

    payments = page.locator("li.nudge-row", has_text="Payments")
    assert not payments.locator("textarea").is_visible()
    payments.locator("summary").first.click()
    assert payments.locator("textarea").is_visible()
    assert payments.locator(".slack-lines li:visible").count() == 5
    payments.get_by_text("Show all 8 pull request lines").click()
    assert payments.locator(".slack-lines li:visible").count() == 8
    assert payments.get_by_text("Show the first 5 only").is_visible()
    page.screenshot(path=str(screenshots / "nudge-drafts-open.png"), full_page=True)

    page.get_by_label("Select all").check()
    assert page.get_by_text("2 selected").is_visible()
    page.get_by_label("I have reviewed these messages; post them to Slack.").check()
    questions = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="Send selected…").click()
    assert questions and questions[0].startswith("Post 2 nudges to Slack now?")
    assert "• Payments → #team-payments (8 PRs)" in questions[0]
    assert "• Search & Discovery → #team-search (2 PRs)" in questions[0]
    assert set(Nudge.objects.values_list("status", flat=True)) == {"draft"} and queued == []

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Send selected…").click()
    page.get_by_text("2 nudge(s) queued for sending.").wait_for()
    assert set(Nudge.objects.values_list("status", flat=True)) == {"sending"}
    assert sorted(queued) == sorted(Nudge.objects.values_list("pk", flat=True))
    assert page.js_errors == []
