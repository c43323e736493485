"""A cluster's "Nudge owners..." adds to a team's open draft, lists each pull request once, and never makes a
draft without a pull request in it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from fleetui.common.roles import MIGRATION_OWNER
from notifications.nudges.drafts import nudge_draft_update, nudge_drafts_create
from notifications.nudges.models import Nudge
from notifications.slack.models import SlackChannel, TeamChannel
from runs.fleet.models import AuditEvent, Outcome
from tests.factories import make_attempt, make_migration, make_repo, make_team, make_user
from tests.notifications.nudges.ready import make_ready_pr
from triage.clusters.models import ClusterMember, FailureCluster

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(client):
    client.force_login(make_user(role=MIGRATION_OWNER))
    return client


def payments_with_ten_pr_draft(user):
    migration = make_migration("java-21", "Java 21")
    team = make_team("payments", "Payments")
    channel = SlackChannel.objects.create(channel_id="C0PAY", name="team-payments", is_member=True)
    TeamChannel.objects.create(team=team, channel=channel, source="matched", score=0.9)
    for n in range(10):
        make_ready_pr(make_attempt(migration, make_repo(f"acme/svc-{n:02d}", team=team), outcome=Outcome.SUCCEEDED))
    (draft,) = nudge_drafts_create(migration=migration, user=user).drafts
    assert sum(1 for line in draft.lines if line["kind"] == "pr") == 10
    return migration, team, draft


def cluster_of(migration, repos):
    cluster = FailureCluster.objects.create(migration=migration, key="k1", title="Build fails", kind="verify")
    for repo in repos:
        attempt = make_attempt(migration, repo, outcome=Outcome.VERIFY_FAILED)
        ClusterMember.objects.create(
            cluster=cluster, migration=migration, attempt=attempt, repository=repo, joined_at=timezone.now()
        )
    return cluster


def pr_ids(nudge):
    return [line["pr"] for line in nudge.lines if line["kind"] == "pr"]


def test_a_cluster_nudge_adds_to_the_team_draft_and_keeps_its_ten_prs(owner_client):
    migration, team, draft = payments_with_ten_pr_draft(make_user(is_superuser=True))
    before = pr_ids(draft)
    # The cluster holds a repository the draft already lists, one with a new ready PR and one failing without a PR.
    already = draft.repositories.get(full_name="acme/svc-03")
    fresh_repo = make_repo("acme/ledger", team=team)
    fresh_pr = make_ready_pr(make_attempt(migration, fresh_repo, outcome=Outcome.SUCCEEDED))
    broken = make_repo("acme/broken", team=team)
    cluster = cluster_of(migration, [already, fresh_repo, broken])

    response = owner_client.post(
        reverse("notifications:nudge-create", args=[migration.slug]), {"cluster": str(cluster.pk)}, follow=True
    )

    drafts = Nudge.objects.filter(migration=migration, team=team)
    assert list(drafts.values_list("pk", "status")) == [(draft.pk, "draft")]  # the same draft, nothing cancelled
    draft.refresh_from_db()
    ids = pr_ids(draft)
    assert ids[:10] == before and ids[10:] == [fresh_pr.pk]
    assert len(ids) == len(set(ids)) == 11
    assert draft.pull_requests.count() == 11
    assert {"kind": "failing", "repo": "acme/broken"} in draft.lines
    assert draft.text.startswith("Hi *Payments* :wave: 11 pull requests from the")
    assert draft.blocks[0]["text"]["text"] == "Java 21: 11 PRs for Payments"
    page = response.content.decode()
    assert (
        "Payments: 1 pull request(s) and 1 failing repositories without a pull request added to the open draft, "
        "which now lists 11 pull request(s)." in page
    )
    event = AuditEvent.objects.filter(verb="nudge.drafted").latest("id")
    assert event.data["extended"] == {str(draft.pk): [fresh_pr.pk]}


def test_nudging_the_same_cluster_twice_lists_each_pr_once(owner_client):
    migration, team, draft = payments_with_ten_pr_draft(make_user(is_superuser=True))
    fresh_repo = make_repo("acme/ledger", team=team)
    make_ready_pr(make_attempt(migration, fresh_repo, outcome=Outcome.SUCCEEDED))
    cluster = cluster_of(migration, [fresh_repo])
    url = reverse("notifications:nudge-create", args=[migration.slug])

    owner_client.post(url, {"cluster": str(cluster.pk)})
    second = owner_client.post(url, {"cluster": str(cluster.pk)}, follow=True)

    draft.refresh_from_db()
    assert len(pr_ids(draft)) == len(set(pr_ids(draft))) == 11
    assert "nothing to add; the open draft already covers these repositories and lists 11" in second.content.decode()


def test_a_cluster_nudge_that_adds_only_failing_repositories_says_it_added_them(owner_client):
    migration, team, draft = payments_with_ten_pr_draft(make_user(is_superuser=True))
    cluster = cluster_of(migration, [make_repo("acme/broken", team=team), make_repo("acme/cracked", team=team)])

    response = owner_client.post(
        reverse("notifications:nudge-create", args=[migration.slug]), {"cluster": str(cluster.pk)}, follow=True
    )

    draft.refresh_from_db()
    assert len(pr_ids(draft)) == 10
    assert {"kind": "failing", "repo": "acme/cracked"} in draft.lines
    page = response.content.decode()
    assert (
        "Payments: 2 failing repositories without a pull request added to the open draft, "
        "which now lists 10 pull request(s)." in page
    )
    assert "nothing to add" not in page


def test_a_cluster_with_no_ready_pr_makes_no_draft_and_says_why(owner_client):
    migration = make_migration("java-21", "Java 21")
    team = make_team("search", "Search")
    wip = make_repo("acme/search-api", team=team)
    make_ready_pr(make_attempt(migration, wip, outcome=Outcome.SUCCEEDED), draft=True, checks="failure", approved=False)
    broken = make_repo("acme/search-web", team=team)
    cluster = cluster_of(migration, [wip, broken])

    response = owner_client.post(
        reverse("notifications:nudge-create", args=[migration.slug]), {"cluster": str(cluster.pk)}, follow=True
    )

    assert not Nudge.objects.exists()
    page = response.content.decode()
    assert "Search: no draft, as there is no pull request ready to ask about" in page
    assert (
        "1 pull request(s) not ready to merge (1 not approved by an internal reviewer, 1 still a draft, 1 CI failing)"
        in page
    )
    assert "1 repository failed without a pull request" in page
    assert "0 pull requests" not in page


def test_a_cluster_nudge_keeps_the_owners_edited_text_and_updates_its_count(owner_client):
    owner = make_user(is_superuser=True)
    migration, team, draft = payments_with_ten_pr_draft(owner)
    nudge_draft_update(
        nudge=draft, text="Hey team, 10 pull requests from the Java 21 migration are yours & ready.", user=owner
    )
    fresh_repo = make_repo("acme/ledger", team=team)
    make_ready_pr(make_attempt(migration, fresh_repo, outcome=Outcome.SUCCEEDED))
    cluster = cluster_of(migration, [fresh_repo])

    response = owner_client.post(
        reverse("notifications:nudge-create", args=[migration.slug]), {"cluster": str(cluster.pk)}, follow=True
    )

    draft.refresh_from_db()
    assert draft.text == "Hey team, 11 pull requests from the Java 21 migration are yours &amp; ready."
    assert "Your edited text was kept" in response.content.decode()


def test_an_open_draft_drops_prs_merged_since_and_gains_the_new_ones():
    owner = make_user(is_superuser=True)
    migration, team, draft = payments_with_ten_pr_draft(owner)
    merged = draft.pull_requests.order_by("pk").first()
    merged.state = "merged"
    merged.save(update_fields=["state"])
    make_ready_pr(make_attempt(migration, make_repo("acme/ledger", team=team), outcome=Outcome.SUCCEEDED))

    (again,) = nudge_drafts_create(migration=migration, user=owner).drafts

    assert again.pk == draft.pk
    assert merged.pk not in pr_ids(again) and len(pr_ids(again)) == 10
    assert "10 pull requests from the" in again.text


def test_adding_with_a_new_due_date_rewrites_an_unedited_intro_with_it():
    from datetime import date

    owner = make_user(is_superuser=True)
    migration, team, draft = payments_with_ten_pr_draft(owner)
    make_ready_pr(make_attempt(migration, make_repo("acme/ledger", team=team), outcome=Outcome.SUCCEEDED))

    result = nudge_drafts_create(migration=migration, user=owner, due=date(2031, 3, 4))

    (again,) = result.drafts
    assert again.pk == draft.pk and result.kept_text == []
    assert again.due == date(2031, 3, 4) and "by *Tue 2031-03-04*" in again.text
    assert "11 pull requests from the" in again.text
