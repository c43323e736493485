"""Rerun selection, prompt revisions, batches, dispatch of items and the batch pages."""

import re
import sys
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fleetui.common.roles import MIGRATION_OWNER, VIEWER
from runs.fleet.models import AuditEvent, Outcome, Phase, PromptRevision
from runs.reruns.dispatch import rerun_callback_apply, rerun_item_execute
from runs.reruns.models import RerunBatch, RerunItem, RerunState
from runs.reruns.runners.base import Runner, RunResult, TransientRunnerError
from runs.reruns.runners.command import CommandRunner
from runs.reruns.selection import RerunRefused, prompt_diff, prompt_revision_ensure
from runs.reruns.services import (
    rerun_batch_cancel,
    rerun_batch_create,
    rerun_batch_finish_if_done,
    rerun_batch_retry_failed,
    rerun_results_link,
)
from tests.factories import make_attempt, make_migration, make_prompt_revision, make_repo, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Tasks the services send once their transaction commits."""
    calls = []
    monkeypatch.setattr("runs.reruns.services.rerun_items_enqueue", lambda *, items: calls.extend(items))
    return calls


@pytest.fixture
def fleet():
    migration = make_migration("junit5")
    make_prompt_revision(migration, 1, "Migrate to JUnit 5.")
    repos = [make_repo(f"acme/svc-{i}") for i in range(4)]
    for repo in repos:
        make_attempt(migration, repo, outcome=Outcome.VERIFY_FAILED)
    baseline_broken = make_repo("acme/legacy")
    make_attempt(migration, baseline_broken, phase=Phase.BASELINE, outcome=Outcome.VERIFY_FAILED)
    make_attempt(migration, baseline_broken, outcome=Outcome.VERIFY_FAILED)
    return migration, [r.full_name for r in repos]


def owner():
    return make_user(role=MIGRATION_OWNER)


def command(code: int = 0) -> CommandRunner:
    runner = CommandRunner(template=f"{sys.executable} -c 'import sys; sys.exit({code})' {{repo}}", timeout=20)
    runner.check()
    return runner


def test_a_batch_has_one_queued_item_per_repository_and_its_tasks_go_out_on_commit(
    fleet, sent, django_capture_on_commit_callbacks
):
    migration, names = fleet
    with django_capture_on_commit_callbacks(execute=True):
        batch = rerun_batch_create(migration=migration, user=owner(), repos=names[:3])
    items = list(batch.items.all())
    assert sorted(i.repository.full_name for i in items) == sorted(names[:3])
    assert {i.state for i in items} == {RerunState.QUEUED}
    assert sorted(pk for pk, _ in sent) == sorted(i.pk for i in items)
    assert all(i.source_attempt_id for i in items)
    assert AuditEvent.objects.filter(verb="rerun.requested", target_id=str(batch.pk)).count() == 1


def test_pre_existing_failures_are_left_out_unless_asked(fleet, sent):
    migration, names = fleet
    batch = rerun_batch_create(migration=migration, user=owner(), repos=[*names[:1], "acme/legacy"])
    assert list(batch.items.values_list("repository__full_name", flat=True)) == [names[0]]
    assert batch.skipped[0]["repo"] == "acme/legacy" and "pre-existing" in batch.skipped[0]["reason"]
    again = rerun_batch_create(migration=migration, user=owner(), repos=["acme/legacy"], include_pre_existing=True)
    assert again.items.count() == 1


def test_repositories_already_queued_or_running_are_skipped_and_said_so(fleet, sent):
    migration, names = fleet
    first = rerun_batch_create(migration=migration, user=owner(), repos=names[:2])
    second = rerun_batch_create(migration=migration, user=owner(), repos=names[:3])
    assert list(second.items.values_list("repository__full_name", flat=True)) == [names[2]]
    reasons = {s["repo"]: s["reason"] for s in second.skipped}
    assert f"rerun #{first.pk}" in reasons[names[0]] and f"rerun #{first.pk}" in reasons[names[1]]


def test_a_selection_larger_than_the_maximum_is_refused(fleet, sent, settings):
    migration, names = fleet
    settings.RERUN_MAX_BATCH = 2
    with pytest.raises(RerunRefused, match="at most 2"):
        rerun_batch_create(migration=migration, user=owner(), repos=names)
    assert not RerunBatch.objects.exists()


def test_unknown_repositories_and_empty_selections_are_refused(fleet, sent):
    migration, _ = fleet
    with pytest.raises(RerunRefused, match="nothing to rerun"):
        rerun_batch_create(migration=migration, user=owner(), repos=["acme/nope"])
    with pytest.raises(RerunRefused):
        rerun_batch_create(migration=migration, user=owner(), repos=[])


def test_a_cluster_selection_takes_its_members_except_the_excluded(fleet, sent, monkeypatch):
    from triage.clusters.models import FailureCluster

    migration, names = fleet
    cluster = FailureCluster.objects.create(migration=migration, title="cannot find symbol")
    seen = {}

    def members(cluster_id, *, exclude=None, include_pre_existing=False):
        seen["args"] = (cluster_id, exclude)
        return [n for n in names if n not in (exclude or [])]

    monkeypatch.setattr("runs.reruns.selection.cluster_repository_names", members)
    batch = rerun_batch_create(migration=migration, user=owner(), cluster_id=cluster.pk, exclude=[names[0]])
    assert seen["args"] == (cluster.pk, [names[0]])
    assert sorted(batch.items.values_list("repository__full_name", flat=True)) == sorted(names[1:])
    assert set(batch.items.values_list("source_cluster_id", flat=True)) == {cluster.pk}


def test_an_edited_prompt_becomes_a_new_numbered_revision_and_the_same_text_reuses_it(fleet):
    migration, _ = fleet
    user = owner()
    same, created = prompt_revision_ensure(migration=migration, text="Migrate to JUnit 5.\r\n".strip(), user=user)
    assert not created and same.number == 1
    edited, created = prompt_revision_ensure(migration=migration, text="Migrate to JUnit 5.\r\nKeep tests.", user=user)
    assert created and edited.number == 2 and edited.author == user
    assert edited.text == "Migrate to JUnit 5.\nKeep tests."
    assert edited.text_hash == PromptRevision.hash_text(edited.text)
    again, created = prompt_revision_ensure(migration=migration, text="Migrate to JUnit 5.\nKeep tests.", user=user)
    assert not created and again.pk == edited.pk


def test_the_prompt_diff_marks_added_and_removed_lines():
    diff = prompt_diff("keep\nold line", "keep\nnew line")
    assert ("del", "-old line") in [(d.kind, d.text) for d in diff]
    assert ("add", "+new line") in [(d.kind, d.text) for d in diff]


def test_an_item_is_dispatched_once_even_when_its_task_is_delivered_twice(fleet, sent):
    migration, names = fleet
    batch = rerun_batch_create(migration=migration, user=owner(), repos=names[:1])
    item = batch.items.get()
    first = rerun_item_execute(item_id=item.pk, runner=command(0))
    second = rerun_item_execute(item_id=item.pk, runner=command(0))
    item.refresh_from_db()
    assert first.action == "done" and second.action == "skip"
    assert item.state == RerunState.SUCCEEDED and item.tries == 1
    assert item.dispatch_token == f"{batch.pk}:{item.repository_id}:1"


def test_a_redelivered_task_for_a_command_that_had_started_does_not_run_it_again(fleet, sent, settings):
    migration, names = fleet
    batch = rerun_batch_create(migration=migration, user=owner(), repos=names[:1])
    item = batch.items.get()
    # Claimed and started longer ago than a task may live: the worker that ran it is gone.
    long_ago = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    RerunItem.objects.filter(pk=item.pk).update(
        state=RerunState.RUNNING, started=True, tries=1, dispatch_token="k", updated_at=long_ago
    )
    fresh = rerun_batch_create(migration=migration, user=owner(), repos=names[1:2]).items.get()
    RerunItem.objects.filter(pk=fresh.pk).update(state=RerunState.RUNNING, started=True, tries=1, dispatch_token="f")

    class Counting(Runner):
        name = "command"
        calls = 0

        def dispatch(self, job, *, on_started=None):
            Counting.calls += 1
            return RunResult(state="succeeded")

    assert rerun_item_execute(item_id=fresh.pk, runner=Counting()).action == "skip"
    outcome = rerun_item_execute(item_id=item.pk, runner=Counting())
    item.refresh_from_db()
    assert Counting.calls == 0
    assert item.state == RerunState.FAILED and "not started a second time" in item.error
    assert outcome.action == "done"


def test_a_failing_run_leaves_the_item_failed_with_the_reason(fleet, sent):
    migration, names = fleet
    batch = rerun_batch_create(migration=migration, user=owner(), repos=names[:1])
    item = batch.items.get()
    rerun_item_execute(item_id=item.pk, runner=command(4))
    item.refresh_from_db()
    assert item.state == RerunState.FAILED and item.exit_code == 4 and "code 4" in item.error


def test_a_transient_runner_error_puts_the_item_back_for_another_try(fleet, sent):
    migration, names = fleet
    batch = rerun_batch_create(migration=migration, user=owner(), repos=names[:1])
    item = batch.items.get()

    class Flaky(Runner):
        name = "http"

        def dispatch(self, job, *, on_started=None):
            raise TransientRunnerError("503 from the fleet service")

    outcome = rerun_item_execute(item_id=item.pk, runner=Flaky(), final_try=False)
    item.refresh_from_db()
    assert outcome.action == "retry" and item.state == RerunState.QUEUED and "503" in item.error
    final = rerun_item_execute(item_id=item.pk, runner=Flaky(), final_try=True)
    item.refresh_from_db()
    assert final.action == "done" and item.state == RerunState.FAILED and item.tries == 2


def test_items_wait_when_the_migration_is_at_its_concurrency_limit(fleet, sent, settings):
    migration, names = fleet
    settings.RERUN_CONCURRENCY = 1
    batch = rerun_batch_create(migration=migration, user=owner(), repos=names[:2])
    first, second = batch.items.order_by("id")
    RerunItem.objects.filter(pk=first.pk).update(state=RerunState.RUNNING)
    assert rerun_item_execute(item_id=second.pk, runner=command(0)).action == "wait"
    second.refresh_from_db()
    assert second.state == RerunState.QUEUED and second.tries == 0


def test_cancel_stops_what_has_not_started_and_a_later_task_does_nothing(fleet, sent):
    migration, names = fleet
    batch = rerun_batch_create(migration=migration, user=owner(), repos=names[:3])
    first = batch.items.order_by("id").first()
    rerun_item_execute(item_id=first.pk, runner=command(0))
    assert rerun_batch_cancel(batch=batch, user=owner()) == 2
    states = sorted(batch.items.values_list("state", flat=True))
    assert states == [RerunState.CANCELLED, RerunState.CANCELLED, RerunState.SUCCEEDED]
    last = batch.items.order_by("id").last()
    assert rerun_item_execute(item_id=last.pk, runner=command(0)).action == "skip"


def test_retry_failed_queues_failed_items_for_a_new_try(fleet, sent, django_capture_on_commit_callbacks):
    migration, names = fleet
    batch = rerun_batch_create(migration=migration, user=owner(), repos=names[:2])
    for item in batch.items.all():
        rerun_item_execute(item_id=item.pk, runner=command(1))
    with django_capture_on_commit_callbacks(execute=True):
        assert rerun_batch_retry_failed(batch=batch, user=owner()) == 2
    item = batch.items.first()
    assert item.state == RerunState.QUEUED and sorted(sent) == sorted((i.pk, 1) for i in batch.items.all())
    rerun_item_execute(item_id=item.pk, runner=command(0))
    item.refresh_from_db()
    assert item.state == RerunState.SUCCEEDED and item.tries == 2 and item.dispatch_token.endswith(":2")


def test_a_finished_batch_imports_the_new_traces_once_and_links_the_new_attempts(fleet, sent, monkeypatch):
    migration, names = fleet
    imports = []
    monkeypatch.setattr(
        "runs.reruns.services.import_run_enqueue", lambda *, trigger, user=None: imports.append(trigger) or None
    )
    batch = rerun_batch_create(migration=migration, user=owner(), repos=names[:2])
    for item in batch.items.all():
        rerun_item_execute(item_id=item.pk, runner=command(0))
    assert imports == ["rerun"]
    assert not rerun_batch_finish_if_done(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.done
    repo = batch.items.first().repository
    new = make_attempt(migration, repo, outcome=Outcome.SUCCEEDED)
    assert rerun_results_link(batch=batch) == 1
    assert batch.items.get(repository=repo).result_attempt == new


def test_a_runner_callback_finishes_a_running_item_only_for_its_current_try(fleet, sent):
    migration, names = fleet
    batch = rerun_batch_create(migration=migration, user=owner(), repos=names[:1])
    item = batch.items.get()
    RerunItem.objects.filter(pk=item.pk).update(state=RerunState.RUNNING, dispatch_token="7:1:1", tries=1)
    assert not rerun_callback_apply(idempotency_key="7:1:0", state="succeeded")
    assert rerun_callback_apply(idempotency_key="7:1:1", state="failed", error="tests failed")
    item.refresh_from_db()
    assert item.state == RerunState.FAILED and item.error == "tests failed"


def test_only_migration_owners_may_open_the_rerun_form(client, fleet):
    migration, _ = fleet
    client.force_login(make_user(role=VIEWER))
    response = client.get(reverse("rerun-new", kwargs={"slug": migration.slug}))
    assert response.status_code == 403


def test_the_rerun_form_shows_the_count_the_diff_escaped_and_creates_the_batch_on_confirm(client, fleet, sent):
    migration, names = fleet
    client.force_login(owner())
    url = reverse("rerun-new", kwargs={"slug": migration.slug})
    data = {"repos": names[:2] + ["acme/legacy"], "prompt": "Migrate to JUnit 5.\n<script>alert(1)</script>"}
    preview = client.post(url, data)
    body = preview.content.decode()
    assert preview.status_code == 200
    assert 'data-total="2"' in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert(1)" not in body
    assert "pre-existing" in body
    assert not RerunBatch.objects.exists()
    confirmed = client.post(url, {**data, "confirm": "1", "exclude": [names[1]]})
    batch = RerunBatch.objects.get()
    assert confirmed.status_code == 302 and confirmed["Location"] == reverse("rerun-detail", args=[batch.pk])
    assert list(batch.items.values_list("repository__full_name", flat=True)) == [names[0]]
    assert batch.prompt_revision.number == 2


def test_the_batch_page_polls_until_done_and_escapes_errors(client, fleet, sent, django_assert_max_num_queries):
    migration, names = fleet
    batch = rerun_batch_create(migration=migration, user=owner(), repos=names)
    RerunItem.objects.filter(batch=batch).update(state=RerunState.FAILED, error="<b>boom</b>")
    client.force_login(make_user(role=VIEWER))
    with django_assert_max_num_queries(20):
        page = client.get(reverse("rerun-detail", args=[batch.pk]))
    body = page.content.decode()
    assert "&lt;b&gt;boom&lt;/b&gt;" in body and "<b>boom</b>" not in body
    assert 'hx-trigger="every 2s"' in body
    assert "Retry failed" not in body  # viewers see no actions
    rerun_batch_finish_if_done(batch_id=batch.pk)
    status = client.get(reverse("rerun-status", args=[batch.pk]))
    assert 'hx-trigger="every 2s"' not in status.content.decode()


def test_cancel_and_retry_pages_need_post_and_the_owner_role(client, fleet, sent):
    migration, names = fleet
    batch = rerun_batch_create(migration=migration, user=owner(), repos=names[:2])
    client.force_login(make_user(role=VIEWER))
    assert client.post(reverse("rerun-cancel", args=[batch.pk])).status_code == 403
    client.force_login(owner())
    assert client.get(reverse("rerun-cancel", args=[batch.pk])).status_code == 405
    assert client.post(reverse("rerun-cancel", args=[batch.pk])).status_code == 302
    assert set(batch.items.values_list("state", flat=True)) == {RerunState.CANCELLED}


def test_the_batch_list_shows_counts(client, fleet, sent, django_assert_max_num_queries):
    migration, names = fleet
    for name in names:
        rerun_batch_create(migration=migration, user=owner(), repos=[name])
    client.force_login(make_user(role=VIEWER))
    with django_assert_max_num_queries(8):
        page = client.get(reverse("rerun-list"))
    assert page.status_code == 200
    assert len(re.findall(r'href="/reruns/\d+/"', page.content.decode())) == len(names)


def test_select_all_matching_on_the_repository_table_reruns_every_repository_the_filters_match(client):
    from django.urls import reverse

    from tests.factories import make_attempt, make_migration, make_repo, make_user

    migration = make_migration(slug="bulk-select")
    for index in range(3):
        make_attempt(migration, make_repo(f"acme/failing-{index}"), outcome="verify_failed")
    make_attempt(migration, make_repo("acme/fine"), outcome="succeeded")
    client.force_login(make_user(role="migration owner"))
    response = client.get(
        reverse("rerun-new", args=[migration.slug]),
        {"all_matching": "1", "filter_state": "verify_failed", "repos": ["acme/failing-0"]},
    )
    assert response.status_code == 200
    names = sorted(target.repository.full_name for target in response.context["selection"].targets)
    assert names == ["acme/failing-0", "acme/failing-1", "acme/failing-2"]
