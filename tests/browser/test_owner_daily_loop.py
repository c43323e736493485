"""An owner's daily loop in Chromium, end to end: traces written through MLflow's API are imported and clustered;
the owner opens the cluster, edits the prompt and reruns it on a real worker whose agent writes new traces; the
batch reads `fixed` and `still failing`; the owner reruns the rest, then drafts a nudge and sends it to Slack."""

import re

import pytest

from fleetui.common.roles import MIGRATION_OWNER
from notifications.nudges.models import Nudge
from notifications.slack.models import SlackChannel, TeamChannel
from runs.fleet.models import Attempt, Team
from runs.reruns.models import RerunBatch
from tests.browser.fleet_loop import (
    FIXED,
    STILL,
    agent_script,
    import_and_cluster,
    log_in,
    roles_present,
    runner_env,
    write_fleet,
)
from tests.celery_support import broker_in_use, broker_url, wait_for, worker_process
from tests.notifications.nudges.ready import make_ready_pr

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SETTLE = 90_000  # ms: the worker reruns, imports the new traces and clusters them before the page stops polling


def outcome_count(page, label: str) -> int:
    """The count beside one outcome badge in the batch's "Items per outcome" row."""
    item = page.get_by_role("list", name="Items per outcome").get_by_role("listitem").filter(has_text=label)
    return int(item.locator(".stat").inner_text())


def settled(page) -> None:
    """Wait for the page to stop polling: every item's new attempt imported, linked and clustered."""
    page.wait_for_function("() => !document.querySelector('#rerun-status[hx-trigger]')", timeout=SETTLE)


def test_an_owner_reruns_a_cluster_with_an_edited_prompt_reruns_the_rest_and_sends_a_nudge(
    page, live_server, screenshots, tmp_path, settings, fake_slack
):
    shot = iter(range(1, 100))

    def snap(name: str) -> None:
        page.screenshot(path=str(screenshots / f"owner-{next(shot):02d}-{name}.png"), full_page=True)

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    write_fleet(uri)
    roles_present()
    migration, cluster = import_and_cluster(uri)
    channel_id = fake_slack.add_channel("team-payments", is_member=True)
    channel = SlackChannel.objects.create(channel_id=channel_id, name="team-payments", is_member=True)
    TeamChannel.objects.create(team=Team.objects.get(slug="payments"), channel=channel, source="matched", score=1.0)

    broker = broker_url(tmp_path)
    settings.CELERY_BROKER_URL = broker
    settings.MLFLOW_TRACKING_URI = uri
    settings.FLEETUI_RUNNER = "command"
    env = {
        **runner_env(agent_script(tmp_path), uri),
        "SLACK_API_URL": fake_slack.url,
        "SLACK_BOT_TOKEN": fake_slack.token,
    }
    with broker_in_use(broker), worker_process(broker=broker, concurrency=2, env=env):
        log_in(page, live_server, "owner", MIGRATION_OWNER)

        # Pick the cluster from the migration's cluster list.
        page.goto(f"{live_server.url}/migrations/{migration.slug}/clusters/")
        page.get_by_role("link", name=cluster.title, exact=True).first.click()
        page.wait_for_url(re.compile(rf"/clusters/{cluster.pk}/$"))
        assert page.locator("h1").inner_text() == cluster.title
        members = page.locator("[data-select-row]")
        assert members.count() == 3
        snap("cluster")

        # Open the rerun form from the cluster's members and edit the prompt.
        page.get_by_label("Select every member on this page").check()
        page.get_by_role("button", name="Rerun selected…").click()
        page.wait_for_url(re.compile(rf"/migrations/{migration.slug}/reruns/new"))
        assert page.locator("#rerun-count").inner_text() == "3"
        prompt = page.get_by_label("Prompt", exact=True)
        assert "Migrate the service to Java 21." in prompt.input_value()
        prompt.fill(prompt.input_value() + "\nReplace javax.annotation with jakarta.annotation.")
        page.get_by_role("button", name="Update preview").click()
        page.get_by_role("heading", name="Changes to the prompt").wait_for()
        assert "jakarta.annotation" in page.locator("pre.prompt-diff ins").inner_text()
        snap("rerun-form-edited")

        # Submit through the confirmation step.
        page.get_by_text("Rerun 3 repositories…").click()
        page.get_by_role("button", name="Yes, rerun them").click()
        page.wait_for_url(re.compile(r"/reruns/\d+/$"))
        first = RerunBatch.objects.get(pk=int(re.search(r"/reruns/(\d+)/", page.url).group(1)))
        page.get_by_text("queued: 3 repositories").wait_for()
        assert first.prompt_revision.number == 2 and "jakarta" in first.prompt_revision.text
        snap("batch-running")

        settled(page)
        assert outcome_count(page, "fixed") == 1
        assert outcome_count(page, "still failing") == 2
        rows = page.get_by_role("row")
        assert "fixed" in rows.filter(has_text=FIXED).inner_text()
        for repo in STILL:
            assert "still failing" in rows.filter(has_text=repo).inner_text()
        snap("batch-settled")

        # Rerun the two still failing, again through the form with its prompt editor.
        page.get_by_role("button", name="Rerun the 2 still failing…").click()
        page.wait_for_url(re.compile(rf"/migrations/{migration.slug}/reruns/new"))
        assert page.locator("#rerun-count").inner_text() == "2"
        listed = page.get_by_role("table", name="Repositories to rerun").inner_text()
        assert all(repo in listed for repo in STILL) and FIXED not in listed
        assert "jakarta" in page.get_by_label("Prompt", exact=True).input_value()
        snap("rerun-rest-form")
        page.get_by_text("Rerun 2 repositories…").click()
        page.get_by_role("button", name="Yes, rerun them").click()
        page.wait_for_url(re.compile(r"/reruns/\d+/$"))
        second = int(re.search(r"/reruns/(\d+)/", page.url).group(1))
        assert second != first.pk
        settled(page)
        assert outcome_count(page, "still failing") == 2 and outcome_count(page, "fixed") == 0
        snap("second-batch-settled")

        # GitHub would now show the fixed repository's pull request: open, green and approved by a reviewer.
        fixed_attempt = Attempt.objects.filter(repository__full_name=FIXED).order_by("-number").first()
        assert fixed_attempt.outcome == "succeeded" and fixed_attempt.number == 2
        pr = make_ready_pr(fixed_attempt, number=4242)

        # From the cluster: the two still failing have no pull request to ask about, and the page says so.
        page.goto(f"{live_server.url}/clusters/{cluster.pk}/")
        assert page.locator("[data-select-row]").count() == 2  # the fixed repository left the cluster
        page.get_by_label("Select every member on this page").check()
        page.get_by_role("button", name="Nudge owners…").click()
        page.wait_for_url(re.compile(rf"/migrations/{migration.slug}/nudges/$"))
        page.get_by_text(
            "Payments: no draft, as there is no pull request ready to ask about: "
            "2 repositories failed without a pull request."
        ).wait_for()
        assert not Nudge.objects.exists()
        snap("nudge-from-cluster-without-pr")

        # From the repository table: the fixed repository's pull request makes the team's draft.
        page.goto(f"{live_server.url}/migrations/{migration.slug}/repos/")
        page.get_by_label(f"Select {FIXED}", exact=True).check()
        page.get_by_role("button", name="Nudge owners…").click()
        page.wait_for_url(re.compile(rf"/migrations/{migration.slug}/nudges/$"))
        page.get_by_text("1 new draft(s) ready to review.").wait_for()
        snap("nudge-drafted")

        # From the cluster again: its failing repositories join the open draft, which keeps its pull request.
        page.goto(f"{live_server.url}/clusters/{cluster.pk}/")
        page.get_by_label("Select every member on this page").check()
        page.get_by_role("button", name="Nudge owners…").click()
        page.wait_for_url(re.compile(rf"/migrations/{migration.slug}/nudges/$"))
        page.get_by_text(re.compile(r"^Payments: .*open draft")).first.wait_for()
        snap("nudge-extended-from-cluster")
        assert Nudge.objects.count() == 1
        draft = page.locator("li.nudge-row", has_text="Payments")
        assert "#team-payments" in draft.inner_text() and "1 PR" in draft.inner_text()
        assert "2 failing without PR" in draft.inner_text()
        draft.locator("summary").first.click()
        assert draft.get_by_label("Message text").is_visible()
        assert FIXED in draft.inner_text()
        snap("nudge-draft-open")

        page.get_by_label("Select the nudge to Payments").check()
        page.get_by_label("I have reviewed these messages; post them to Slack.").check()
        questions = []

        def accept(dialog):
            questions.append(dialog.message)
            dialog.accept()

        page.once("dialog", accept)
        page.get_by_role("button", name="Send selected…").click()
        page.get_by_text("1 nudge(s) queued for sending.").wait_for()
        assert questions and "Payments → #team-payments (1 PR)" in questions[0]
        assert wait_for(lambda: len(fake_slack.posts) == 1, timeout=30), "Slack never got the nudge"
        nudge = Nudge.objects.get(team__slug="payments")
        assert wait_for(lambda: Nudge.objects.get(pk=nudge.pk).status == Nudge.Status.SENT, timeout=15)
        page.goto(f"{live_server.url}/nudges/history/")
        assert "sent" in page.get_by_role("row").filter(has_text="Payments").first.inner_text()
        snap("nudge-sent")

    post = fake_slack.posts[0]
    assert post["channel"] == channel_id
    assert pr.url in str(post)
    assert page.js_errors == []
