"""Two workers claiming the same team's digest, follow-up or escalation at once: one message reaches Slack."""

import threading

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from fleetui.common.roles import ROLES
from notifications.teams.digests import team_digest_claim, team_digest_deliver, team_digest_followup_deliver
from notifications.teams.escalations import team_escalation_claim, team_escalation_deliver
from notifications.teams.models import EscalatedPullRequest, TeamDigest, TeamInboxSettings
from runs.fleet.models import PullRequest
from tests.factories import make_migration
from tests.notifications.teams.helpers import client_for, idle_pr, slack_channel, team_with_channel

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def role_groups():
    # A transactional test flushes the database, role groups included.
    for role in ROLES:
        Group.objects.get_or_create(name=role)


def at_once(work, n: int = 2) -> list:
    """Run `work` in n threads released together; each thread's result (or exception)."""
    barrier, results = threading.Barrier(n), [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = work()
        except Exception as exc:  # noqa: BLE001 - the test looks at what each thread met
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_workers_sending_the_days_digest_post_it_once(fake_slack):
    team, _ = team_with_channel(fake_slack, "payments")
    pr = idle_pr(make_migration("java-21"), "acme/pay-api", team, idle_days=1)

    def send():
        claim = team_digest_claim(team=team)
        if claim.kind == "digest":
            team_digest_deliver(digest_id=claim.digest_id, client=client_for(fake_slack))
        elif claim.kind == "followup":
            team_digest_followup_deliver(followup_id=claim.followup_id, client=client_for(fake_slack))
        return claim.kind

    kinds = at_once(send)

    assert not [k for k in kinds if isinstance(k, Exception)], kinds
    assert len(fake_slack.posts) == 1 and TeamDigest.objects.count() == 1
    # Later the same day, a change and two workers again: one reply in the thread.
    PullRequest.objects.filter(pk=pr.pk).update(checks="failure")
    at_once(send)
    assert len(fake_slack.posts) == 2 and fake_slack.posts[1]["thread_ts"] == fake_slack.posts[0]["ts"]


def test_two_workers_escalating_the_same_stale_pr_post_once(fake_slack):
    team, _ = team_with_channel(fake_slack, "payments")
    idle_pr(make_migration("java-21"), "acme/pay-api", team, idle_days=20)
    team_settings = TeamInboxSettings.objects.create(
        team=team, escalation_channel=slack_channel(fake_slack, "payments-escalations")
    )

    def escalate():
        escalation = team_escalation_claim(team=team, team_settings=team_settings)
        if escalation is not None:
            team_escalation_deliver(escalation_id=escalation.pk, client=client_for(fake_slack))
        return escalation

    results = at_once(escalate)

    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(fake_slack.posts) == 1 and EscalatedPullRequest.objects.count() == 1
