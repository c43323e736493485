"""A rerun item's outcome comes from its new attempt and that attempt's cluster, not from the runner's exit code."""

import re
import sys
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fleetui.common.roles import MIGRATION_OWNER, VIEWER
from runs.fleet.models import Phase
from runs.imports.signals import import_finished
from runs.reruns.dispatch import rerun_item_execute
from runs.reruns.models import RerunBatch, RerunItem, RerunOutcome
from runs.reruns.outcomes import item_outcome
from runs.reruns.runners.command import CommandRunner
from runs.reruns.selectors import rerun_batch_outcome_counts, rerun_still_failing_repos
from runs.reruns.services import rerun_batch_create, rerun_results_link
from tests.factories import (
    make_failed_verify,
    make_import_run,
    make_migration,
    make_prompt_revision,
    make_repo,
    make_succeeded,
    make_user,
)
from triage.clusters.models import ClusteringRun
from triage.clusters.selectors import attempt_clusters
from triage.clusters.services import clustering_run_execute

pytestmark = pytest.mark.django_db

FIXED, STILL, NEW, BROKEN, LEGACY = "acme/fixed", "acme/still", "acme/new", "acme/broken-runner", "acme/legacy"


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    """Tasks the services would send go nowhere; the tests call the services those tasks call."""
    monkeypatch.setattr("runs.reruns.services.rerun_items_enqueue", lambda *, items: None)
    monkeypatch.setattr("runs.reruns.services.import_run_enqueue", lambda *, trigger, user=None: None)
    monkeypatch.setattr("runs.reruns.services._watchdog_on_commit", lambda: None)


def command(code: int) -> CommandRunner:
    runner = CommandRunner(template=f"{sys.executable} -c 'import sys; sys.exit({code})' {{repo}}", timeout=20)
    runner.check()
    return runner


def cluster(migration, mode=ClusteringRun.Mode.FULL) -> None:
    run = clustering_run_execute(migration_id=migration.pk, mode=mode)
    assert run is not None and run.status == ClusteringRun.Status.SUCCEEDED, run and run.error


@pytest.fixture
def rerun():
    """Five repositories failing on the same missing symbol, one of them failing at baseline too, rerun together."""
    migration = make_migration("junit5")
    make_prompt_revision(migration, 1, "Migrate to JUnit 5.")
    repos = {name: make_repo(name) for name in (FIXED, STILL, NEW, BROKEN, LEGACY)}
    make_failed_verify(migration, "symbol", repo=repos[LEGACY], phase=Phase.BASELINE)
    for repo in repos.values():
        make_failed_verify(migration, "symbol", repo=repo)
    cluster(migration)
    batch = rerun_batch_create(
        migration=migration, user=make_user(role=MIGRATION_OWNER), repos=list(repos), include_pre_existing=True
    )
    return migration, repos, batch


def run_every_item(batch) -> None:
    for item in batch.items.select_related("repository"):
        rerun_item_execute(item_id=item.pk, runner=command(1 if item.repository.full_name == BROKEN else 0))


def outcomes(batch) -> dict[str, str]:
    return dict(batch.items.values_list("repository__full_name", "outcome"))


def new_attempts(migration, repos) -> None:
    """What the agent produced: one repository passes, two fail as before, one fails on something else."""
    make_succeeded(migration, repos[FIXED])
    make_failed_verify(migration, "symbol", repo=repos[STILL])
    make_failed_verify(migration, "crate", repo=repos[NEW])
    make_failed_verify(migration, "symbol", repo=repos[LEGACY])


def settled(migration, repos, batch) -> RerunBatch:
    run_every_item(batch)
    new_attempts(migration, repos)
    rerun_results_link(batch=batch)
    cluster(migration, ClusteringRun.Mode.INCREMENTAL)
    return RerunBatch.objects.get(pk=batch.pk)


def test_each_item_gets_its_outcome_from_its_new_attempt_and_its_cluster(rerun):
    migration, repos, batch = rerun
    batch = settled(migration, repos, batch)
    assert outcomes(batch) == {
        FIXED: RerunOutcome.FIXED,
        STILL: RerunOutcome.STILL_FAILING,
        NEW: RerunOutcome.NEW_FAILURE,
        BROKEN: RerunOutcome.RUNNER_FAILED,
        LEGACY: RerunOutcome.STILL_FAILING,
    }
    # The outcome says what the clusters say: same cluster as before, or another one.
    items = {i.repository.full_name: i for i in batch.items.select_related("repository")}
    now_in = attempt_clusters(attempt_ids=[items[STILL].result_attempt_id, items[NEW].result_attempt_id])
    assert now_in[items[STILL].result_attempt_id] == items[STILL].source_cluster_id
    assert now_in.get(items[NEW].result_attempt_id) != items[NEW].source_cluster_id


def test_a_runner_that_exited_zero_leaves_the_item_waiting_until_its_attempt_is_linked_and_clustered(rerun):
    migration, repos, batch = rerun
    assert set(outcomes(batch).values()) == {RerunOutcome.PENDING}
    run_every_item(batch)
    assert outcomes(batch)[STILL] == RerunOutcome.WAITING
    assert outcomes(batch)[BROKEN] == RerunOutcome.RUNNER_FAILED
    new_attempts(migration, repos)
    rerun_results_link(batch=batch)
    linked = outcomes(batch)
    # A pass is known at once; a failure's cause only once clustering has placed it.
    assert linked[FIXED] == RerunOutcome.FIXED
    assert linked[STILL] == linked[NEW] == RerunOutcome.WAITING
    cluster(migration, ClusteringRun.Mode.INCREMENTAL)
    assert outcomes(batch)[STILL] == RerunOutcome.STILL_FAILING
    assert outcomes(batch)[NEW] == RerunOutcome.NEW_FAILURE


def test_an_import_finishing_links_the_waiting_items_without_the_link_task(rerun, django_capture_on_commit_callbacks):
    migration, repos, batch = rerun
    run_every_item(batch)
    new_attempts(migration, repos)
    with django_capture_on_commit_callbacks(execute=True):
        import_finished.send(sender=None, run=make_import_run())
    assert batch.items.filter(result_attempt__isnull=False).count() == 4
    assert outcomes(batch)[FIXED] == RerunOutcome.FIXED


def test_an_item_whose_import_brought_no_attempt_says_so_and_a_later_import_still_links_it(
    rerun, django_capture_on_commit_callbacks
):
    migration, repos, batch = rerun
    run_every_item(batch)
    rerun_results_link(batch=batch)
    assert outcomes(batch)[FIXED] == RerunOutcome.NO_ATTEMPT
    make_succeeded(migration, repos[FIXED])
    with django_capture_on_commit_callbacks(execute=True):
        import_finished.send(sender=None, run=make_import_run())
    assert outcomes(batch)[FIXED] == RerunOutcome.FIXED


def test_a_later_import_leaves_the_items_of_a_batch_that_finished_days_ago_alone(
    rerun, django_capture_on_commit_callbacks
):
    migration, repos, batch = rerun
    run_every_item(batch)
    rerun_results_link(batch=batch)
    RerunBatch.objects.filter(pk=batch.pk).update(finished_at=timezone.now() - timedelta(days=2))
    make_succeeded(migration, repos[FIXED])
    with django_capture_on_commit_callbacks(execute=True):
        import_finished.send(sender=None, run=make_import_run())
    assert outcomes(batch)[FIXED] == RerunOutcome.NO_ATTEMPT


def test_the_batch_counts_items_per_outcome_on_its_page_the_list_and_the_api(rerun, client):
    migration, repos, batch = rerun
    batch = settled(migration, repos, batch)
    counts = rerun_batch_outcome_counts(batch=batch)
    assert (counts["fixed"], counts["still_failing"], counts["new_failure"], counts["runner_failed"]) == (1, 2, 1, 1)
    assert counts["waiting"] == counts["pending"] == 0
    client.force_login(make_user(role=VIEWER))
    page = client.get(reverse("rerun-detail", args=[batch.pk])).content.decode()
    stats = re.search(r'<ul class="stat-row" aria-label="Items per outcome".*?</ul>', page, re.S).group(0)
    found = dict((label, int(n)) for n, label in re.findall(r'class="stat">(\d+)</span> <span [^>]*>([^<]+)<', stats))
    assert found == {"fixed": 1, "still failing": 2, "new failure": 1, "runner failed": 1}
    listed = client.get(reverse("rerun-list")).content.decode()
    row = re.search(rf'href="/reruns/{batch.pk}/".*?</tr>', listed, re.S).group(0)
    assert re.findall(r'<td class="num"[^>]*>(\d+)', row) == ["5", "1", "2", "1", "1", "0", "0"]
    api = client.get(f"/api/reruns/{batch.pk}").json()
    assert api["outcomes"]["still_failing"] == 2 and api["outcomes"]["fixed"] == 1 and api["settled"] is True
    assert {i["repo"]: i["outcome"] for i in api["items"]}[NEW] == "new_failure"
    assert client.get("/api/reruns").json()["results"][0]["outcomes"]["new_failure"] == 1


def test_the_batch_page_polls_while_an_item_waits_for_its_attempt_and_stops_once_all_are_final(rerun, client):
    migration, repos, batch = rerun
    run_every_item(batch)
    new_attempts(migration, repos)
    rerun_results_link(batch=batch)
    assert RerunBatch.objects.get(pk=batch.pk).done  # the runner is done, the outcomes are not
    client.force_login(make_user(role=VIEWER))
    waiting = client.get(reverse("rerun-status", args=[batch.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in waiting and "waiting for attempt" in waiting
    cluster(migration, ClusteringRun.Mode.INCREMENTAL)
    final = client.get(reverse("rerun-status", args=[batch.pk])).content.decode()
    assert 'hx-trigger="every 2s"' not in final and "waiting for attempt" not in final


def test_rerun_still_failing_selects_exactly_the_failing_repositories_for_the_migrations_owners_only(rerun, client):
    migration, repos, batch = rerun
    batch = settled(migration, repos, batch)
    assert rerun_still_failing_repos(batch=batch) == [NEW, STILL]  # not fixed, runner failed or pre-existing
    owner = make_user(role=MIGRATION_OWNER)
    migration.owners.add(owner)
    client.force_login(owner)
    page = client.get(reverse("rerun-detail", args=[batch.pk])).content.decode()
    form = re.search(r'<form method="get" action="([^"]+)"[^>]*id="rerun-still-failing">(.*?)</form>', page, re.S)
    assert form is not None and "Rerun the 2 still failing" in form.group(2)
    assert form.group(1) == reverse("rerun-new", kwargs={"slug": migration.slug})
    selected = re.findall(r'name="repos" value="([^"]+)"', form.group(2))
    assert selected == [NEW, STILL]
    # The rerun form opens on those repositories with the prompt editor.
    preview = client.get(form.group(1), {"repos": selected}).content.decode()
    assert 'data-total="2"' in preview and 'name="prompt"' in preview
    # Viewers, and owners of other migrations, see no such button.
    for other in (make_user(role=VIEWER), make_user(role=MIGRATION_OWNER)):
        client.force_login(other)
        assert "rerun-still-failing" not in client.get(reverse("rerun-detail", args=[batch.pk])).content.decode()


def test_retrying_a_failed_runner_puts_its_outcome_back_to_pending(rerun):
    from runs.reruns.services import rerun_batch_retry_failed

    migration, repos, batch = rerun
    run_every_item(batch)
    assert outcomes(batch)[BROKEN] == RerunOutcome.RUNNER_FAILED
    rerun_batch_retry_failed(batch=batch, user=make_user(role=MIGRATION_OWNER))
    assert RerunItem.objects.get(batch=batch, repository=repos[BROKEN]).outcome == RerunOutcome.PENDING


@pytest.mark.parametrize(
    "state, result, source, now_in, clustered, looked, expected",
    [
        ("running", None, 1, None, False, False, "pending"),
        ("failed", "succeeded", 1, None, True, True, "runner_failed"),
        ("cancelled", None, 1, None, True, True, "cancelled"),
        ("succeeded", None, 1, None, False, False, "waiting"),
        ("succeeded", None, 1, None, False, True, "no_attempt"),
        ("succeeded", "no_change", 1, None, False, True, "fixed"),
        ("succeeded", "verify_failed", 1, None, False, True, "waiting"),
        ("succeeded", "verify_failed", 1, None, True, True, "new_failure"),
        ("succeeded", "verify_failed", 1, 1, True, True, "still_failing"),
        ("succeeded", "judge_rejected", 1, 2, True, True, "new_failure"),
        ("succeeded", "verify_failed", None, 2, True, True, "new_failure"),
        ("succeeded", "in_progress", 1, None, True, True, "waiting"),
    ],
)
def test_the_outcome_rule_covers_every_runner_state_and_attempt(
    state, result, source, now_in, clustered, looked, expected
):
    value = item_outcome(
        state=state,
        result_outcome=result,
        source_cluster=source,
        result_cluster=now_in,
        clustered_since_import=clustered,
        looked_for_attempt=looked,
    )
    assert value == expected
