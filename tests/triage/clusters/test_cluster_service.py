import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from runs.fleet.models import Phase
from tests.factories import make_failed_judge, make_failed_verify, make_migration, make_repo, make_succeeded, make_user
from triage.clusters.models import ClusteringRun, ClusterMember, FailureCluster
from triage.clusters.services import clustering_run_enqueue, clusters_assign_new, clusters_rebuild
from triage.clusters.tasks import cluster_rebuild_task

pytestmark = pytest.mark.django_db
Status = FailureCluster.Status


def rebuild(migration):
    return clusters_rebuild(migration=migration, threshold=0.8)


def cluster_of(attempt) -> FailureCluster:
    return ClusterMember.objects.get(attempt=attempt).cluster


def test_a_rebuild_groups_failures_of_the_same_cause():
    migration = make_migration()
    symbols = [make_failed_verify(migration, "symbol") for _ in range(4)]
    asserts = [make_failed_verify(migration, "assert") for _ in range(3)]

    counts = rebuild(migration)

    assert counts["failures"] == 7
    assert len({cluster_of(a).pk for a in symbols}) == 1
    assert len({cluster_of(a).pk for a in asserts}) == 1
    assert cluster_of(symbols[0]) != cluster_of(asserts[0])
    big = cluster_of(symbols[0])
    assert (big.size, big.repos, big.agent_failures, big.pre_existing_failures) == (4, 4, 4, 0)
    assert "JsonParser" in big.example_snippet and big.exemplars and big.title


def test_rebuilding_keeps_id_title_status_notes_and_assignee_when_members_mostly_persist():
    migration = make_migration()
    attempts = [make_failed_verify(migration, "symbol") for _ in range(4)]
    rebuild(migration)
    cluster = cluster_of(attempts[0])
    owner = make_user()
    FailureCluster.objects.filter(pk=cluster.pk).update(
        title="Jackson moved", title_locked=True, status=Status.FIX_IN_PROMPT, notes="tell the prompt", assignee=owner
    )
    # One repository is fixed, another one fails the same way.
    make_succeeded(migration, attempts[0].repository)
    make_failed_verify(migration, "symbol")

    rebuild(migration)

    again = cluster_of(attempts[1])
    assert again.pk == cluster.pk
    assert (again.title, again.status, again.notes, again.assignee) == (
        "Jackson moved",
        Status.FIX_IN_PROMPT,
        "tell the prompt",
        owner,
    )
    assert again.size == 4
    assert not ClusterMember.objects.filter(attempt=attempts[0]).exists()


def test_a_new_cause_makes_a_new_cluster():
    migration = make_migration()
    make_failed_verify(migration, "symbol")
    make_failed_verify(migration, "symbol")
    rebuild(migration)
    before = set(FailureCluster.objects.values_list("pk", flat=True))

    crate = make_failed_verify(migration, "crate")
    counts = rebuild(migration)

    assert counts["new_clusters"] == 1
    assert cluster_of(crate).pk not in before
    assert before <= set(FailureCluster.objects.values_list("pk", flat=True))


def test_a_resolved_cluster_that_gains_members_becomes_regressed():
    migration = make_migration()
    attempts = [make_failed_verify(migration, "symbol") for _ in range(3)]
    rebuild(migration)
    FailureCluster.objects.filter(pk=cluster_of(attempts[0]).pk).update(status=Status.RESOLVED)

    make_failed_verify(migration, "symbol")
    rebuild(migration)

    assert cluster_of(attempts[0]).status == Status.REGRESSED


def test_a_resolved_cluster_without_new_members_stays_resolved():
    migration = make_migration()
    attempts = [make_failed_verify(migration, "symbol") for _ in range(3)]
    rebuild(migration)
    FailureCluster.objects.filter(pk=cluster_of(attempts[0]).pk).update(status=Status.RESOLVED)

    rebuild(migration)

    assert cluster_of(attempts[0]).status == Status.RESOLVED


def test_pre_existing_failures_are_flagged_and_not_counted_as_agent_failures():
    migration = make_migration()
    broken = make_repo()
    baseline = make_failed_verify(migration, "symbol", repo=broken, phase=Phase.BASELINE)
    latest = make_failed_verify(migration, "symbol", repo=broken)
    agent = [make_failed_verify(migration, "symbol") for _ in range(2)]

    rebuild(migration)

    cluster = cluster_of(agent[0])
    members = {m.attempt_id: m for m in cluster.members.all()}
    assert members[baseline.pk].pre_existing and members[latest.pk].pre_existing
    assert not members[agent[0].pk].pre_existing
    assert (cluster.size, cluster.agent_failures, cluster.pre_existing_failures, cluster.repos) == (4, 2, 2, 3)
    assert cluster.status == Status.NEW


def test_a_new_cluster_of_only_pre_existing_failures_gets_the_pre_existing_status():
    migration = make_migration()
    repos = [make_repo() for _ in range(2)]
    for repo in repos:
        make_failed_verify(migration, "npm", repo=repo, phase=Phase.BASELINE)

    rebuild(migration)

    cluster = FailureCluster.objects.get(migration=migration)
    assert cluster.status == Status.PRE_EXISTING
    assert cluster.agent_failures == 0 and cluster.pre_existing_failures == 2


def test_judge_rejections_cluster_apart_from_verifier_failures():
    migration = make_migration()
    rationale = "The change removes the null check in the payment handler instead of migrating it."
    judged = [make_failed_judge(migration, rationale) for _ in range(2)]
    verify = make_failed_verify(migration, "symbol")

    rebuild(migration)

    assert cluster_of(judged[0]) == cluster_of(judged[1])
    assert cluster_of(judged[0]).kind == "judge"
    assert cluster_of(verify).kind == "verify"
    assert cluster_of(judged[0]).members.get(attempt=judged[0]).verifier_result is None


def test_an_emptied_cluster_keeps_a_persons_decision_and_an_untouched_one_is_deleted():
    migration = make_migration()
    noted = [make_failed_verify(migration, "symbol") for _ in range(2)]
    plain = [make_failed_verify(migration, "crate") for _ in range(2)]
    rebuild(migration)
    noted_cluster, plain_cluster = cluster_of(noted[0]), cluster_of(plain[0])
    FailureCluster.objects.filter(pk=noted_cluster.pk).update(notes="fixed by prompt r3")
    for attempt in noted + plain:
        make_succeeded(migration, attempt.repository)

    rebuild(migration)

    kept = FailureCluster.objects.get(pk=noted_cluster.pk)
    assert kept.size == 0 and kept.is_empty and kept.notes == "fixed by prompt r3"
    assert not FailureCluster.objects.filter(pk=plain_cluster.pk).exists()


def test_a_rebuild_keeps_the_join_time_of_members_that_stay():
    migration = make_migration()
    attempts = [make_failed_verify(migration, "symbol") for _ in range(2)]
    rebuild(migration)
    past = timezone.now() - timezone.timedelta(days=3)
    ClusterMember.objects.update(joined_at=past)

    rebuild(migration)

    assert set(ClusterMember.objects.filter(attempt__in=attempts).values_list("joined_at", flat=True)) == {past}


def test_of_two_rebuild_tasks_for_one_migration_one_runs_and_one_skips():
    migration = make_migration()
    make_failed_verify(migration, "symbol")
    busy = ClusteringRun.objects.create(
        migration=migration, status=ClusteringRun.Status.RUNNING, started_at=timezone.now()
    )
    queued = clustering_run_enqueue(migration=migration)

    cluster_rebuild_task(migration.pk, run_id=queued.pk)

    queued.refresh_from_db()
    assert queued.status == ClusteringRun.Status.SKIPPED
    assert not FailureCluster.objects.exists()
    busy.delete()
    cluster_rebuild_task(migration.pk)
    done = ClusteringRun.objects.get(migration=migration, status=ClusteringRun.Status.SUCCEEDED)
    assert (done.failures, done.clusters, done.new_clusters) == (1, 1, 1)
    assert done.seconds is not None and done.finished_at


def test_a_redelivered_rebuild_task_does_not_run_twice():
    migration = make_migration()
    make_failed_verify(migration, "symbol")
    run = clustering_run_enqueue(migration=migration)

    cluster_rebuild_task(migration.pk, run_id=run.pk)
    first = FailureCluster.objects.get()
    FailureCluster.objects.filter(pk=first.pk).update(title="changed after the first run")
    cluster_rebuild_task(migration.pk, run_id=run.pk)

    assert FailureCluster.objects.get().title == "changed after the first run"
    assert ClusteringRun.objects.filter(status=ClusteringRun.Status.SUCCEEDED).count() == 1


def test_the_rebuild_command_reclusters_one_migration():
    migration, other = make_migration(), make_migration()
    make_failed_verify(migration, "symbol")
    make_failed_verify(other, "symbol")
    out = io.StringIO()

    call_command("rebuild_clusters", "--migration", migration.slug, stdout=out)

    assert f"{migration.slug}: 1 failures in 1 clusters (1 new)" in out.getvalue()
    assert list(FailureCluster.objects.values_list("migration_id", flat=True)) == [migration.pk]
    with pytest.raises(CommandError):
        call_command("rebuild_clusters", "--migration", "no-such-migration", stdout=out)


# --- selectors ---------------------------------------------------------------------


def test_cluster_list_filters_by_status_kind_text_team_and_prompt_revision():
    from tests.factories import make_prompt_revision, make_team
    from triage.clusters import selectors

    migration = make_migration()
    team = make_team("payments")
    r2 = make_prompt_revision(migration, 2)
    symbols = [make_failed_verify(migration, "symbol", repo=make_repo(team=team)) for _ in range(3)]
    crate = make_failed_verify(migration, "crate")
    crate.prompt_revision = r2
    crate.save()
    judged = make_failed_judge(migration, "The change deletes the retry loop instead of porting it.")
    rebuild(migration)
    big, small, judge = cluster_of(symbols[0]), cluster_of(crate), cluster_of(judged)
    FailureCluster.objects.filter(pk=small.pk).update(status=Status.TRIAGED)

    def ids(**filters):
        return [c.pk for c in selectors.cluster_list(migration=migration, **filters)]

    assert ids() == [big.pk, *sorted([small.pk, judge.pk])]
    assert ids(status="triaged") == [small.pk]
    assert ids(status=["triaged", "new"]) == ids()
    assert ids(kind="judge") == [judge.pk]
    assert ids(search="tokio") == [small.pk]
    assert ids(team="payments") == [big.pk]
    assert ids(team="-") == sorted([small.pk, judge.pk])
    assert ids(prompt_rev=2) == [small.pk]
    assert ids(new_since=timezone.now() + timezone.timedelta(days=1)) == []
    assert ids(order="size")[-1] == big.pk


def test_repository_names_leave_out_pre_existing_and_excluded_repositories():
    from triage.clusters import selectors

    migration = make_migration()
    broken = make_repo("acme/broken")
    make_failed_verify(migration, "symbol", repo=broken, phase=Phase.BASELINE)
    make_failed_verify(migration, "symbol", repo=broken)
    a = make_failed_verify(migration, "symbol", repo=make_repo("acme/alpha"))
    make_failed_verify(migration, "symbol", repo=make_repo("acme/beta"))
    rebuild(migration)
    cluster = cluster_of(a)

    assert selectors.cluster_repository_names(cluster.pk) == ["acme/alpha", "acme/beta"]
    assert selectors.cluster_repository_names(cluster.pk, exclude=["acme/beta"]) == ["acme/alpha"]
    assert selectors.cluster_repository_names(cluster.pk, include_pre_existing=True) == [
        "acme/alpha",
        "acme/beta",
        "acme/broken",
    ]


def test_attempt_clusters_maps_attempts_to_their_cluster():
    from triage.clusters import selectors

    migration = make_migration()
    a = make_failed_verify(migration, "symbol")
    b = make_failed_verify(migration, "crate")
    passed = make_succeeded(migration, make_repo())
    rebuild(migration)

    found = selectors.attempt_clusters(attempt_ids=[a.pk, b.pk, passed.pk])

    assert found == {a.pk: cluster_of(a).pk, b.pk: cluster_of(b).pk}


def test_clusters_grown_since_ranks_by_members_joined_since():
    from triage.clusters import selectors

    migration = make_migration()
    old = [make_failed_verify(migration, "symbol") for _ in range(4)]
    first_crate = make_failed_verify(migration, "crate")
    rebuild(migration)
    ClusterMember.objects.update(joined_at=timezone.now() - timezone.timedelta(days=3))
    since = timezone.now() - timezone.timedelta(days=1)
    make_failed_verify(migration, "crate")
    make_failed_verify(migration, "crate")
    make_failed_verify(migration, "symbol")
    clusters_assign_new(migration=migration, threshold=0.8)

    grown = selectors.clusters_grown_since(since=since)
    assert [(c.pk, c.grown) for c in grown] == [(cluster_of(first_crate).pk, 2), (cluster_of(old[0]).pk, 1)]
    assert selectors.clusters_grown_since(since=timezone.now() + timezone.timedelta(minutes=1)) == []


def test_clusters_grown_since_follows_members_split_out_merged_and_other_migrations():
    from triage.clusters import selectors
    from triage.clusters.models import ClusterJoins
    from triage.clusters.services.actions import cluster_merge, cluster_split

    migration, other = make_migration(), make_migration("other")
    symbols = [make_failed_verify(migration, "symbol") for _ in range(4)]
    crates = [make_failed_verify(migration, "crate") for _ in range(2)]
    elsewhere = make_failed_verify(other, "symbol")
    rebuild(migration)
    rebuild(other)
    since = timezone.now() - timezone.timedelta(days=1)

    def grown(**kwargs):
        return {c.pk: c.grown for c in selectors.clusters_grown_since(since=since, **kwargs)}

    symbol, crate = cluster_of(symbols[0]), cluster_of(crates[0])
    assert grown(migration=migration) == {symbol.pk: 4, crate.pk: 2}
    assert grown(migration=other) == {cluster_of(elsewhere).pk: 1}

    split = cluster_split(cluster=symbol, trace_ids=[symbols[0].trace_id], actor=None)
    assert grown(migration=migration) == {symbol.pk: 3, crate.pk: 2, split.pk: 1}

    cluster_merge(source=crate, into=symbol, actor=None)
    assert grown(migration=migration) == {symbol.pk: 5, split.pk: 1}
    assert not ClusterJoins.objects.filter(cluster_id=crate.pk).exists(), "a merged cluster's joins go with it"


def test_cluster_members_come_with_repository_team_attempt_and_pull_requests_in_few_queries(
    django_assert_max_num_queries,
):
    from tests.factories import make_pull_request, make_team
    from triage.clusters import selectors

    migration = make_migration()
    team = make_team("core")
    attempts = [make_failed_verify(migration, "symbol", repo=make_repo(team=team)) for _ in range(6)]
    for attempt in attempts:
        make_pull_request(attempt)
    rebuild(migration)
    cluster = cluster_of(attempts[0])

    with django_assert_max_num_queries(2):
        rows = [
            (m.repository.full_name, m.repository.team.slug, m.attempt.trace_id, len(m.attempt.pull_requests.all()))
            for m in selectors.cluster_members(cluster=cluster, team="core")
        ]

    assert len(rows) == 6 and all(r[1] == "core" and r[3] == 1 for r in rows)
    assert list(selectors.cluster_members(cluster=cluster, team="other")) == []
