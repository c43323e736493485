"""A canary's verdict: it expands when it fixes enough, pauses with a reason when it does not, once."""

import pytest

from fleetui.common.roles import MIGRATION_OWNER
from runs.fleet.models import AuditEvent
from runs.reruns import canary as canary_service
from runs.reruns.canary import rerun_canary_evaluate, rerun_canary_expand
from runs.reruns.canary_rules import CanarySpec
from runs.reruns.models import RerunBatch, RerunItem, RerunOutcome, RerunPhase, RerunState
from runs.reruns.selectors import cluster_fix_counts
from runs.reruns.services import rerun_batch_cancel, rerun_batch_create
from tests.factories import make_user
from tests.runs.reruns.canary.support import canary_names, failing_fleet, settle_canary

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """The (item id, tries) pairs whose tasks went out once their transaction committed."""
    calls = []
    monkeypatch.setattr("runs.reruns.services.rerun_items_enqueue", lambda *, items: calls.extend(items))
    monkeypatch.setattr("runs.reruns.services.import_run_enqueue", lambda *, trigger, user=None: None)
    monkeypatch.setattr("runs.reruns.services._watchdog_on_commit", lambda: None)
    return calls


@pytest.fixture
def owner():
    return make_user(role=MIGRATION_OWNER)


def spec(size=4, min_fixed=0.5, share=0.3) -> CanarySpec:
    return CanarySpec(size=size, fraction=None, min_fixed=min_fixed, max_new_cluster_share=share)


def start(owner, *, capture, cluster=None, **kwargs):
    migration, repos, only = cluster
    with capture(execute=True):
        batch = rerun_batch_create(migration=migration, user=owner, cluster_id=only.pk, canary=spec(**kwargs))
    return batch, repos


def events(batch, verb):
    return list(AuditEvent.objects.filter(verb=verb, target_id=str(batch.pk)))


@pytest.fixture
def fleet():
    return failing_fleet()


def test_a_canary_batch_sends_only_its_canary_and_holds_the_rest(
    fleet, owner, sent, django_capture_on_commit_callbacks
):
    batch, _ = start(owner, capture=django_capture_on_commit_callbacks, cluster=fleet)
    assert batch.phase == RerunPhase.CANARY and batch.canary_size == 4
    canary_ids = set(batch.items.filter(canary=True).values_list("pk", flat=True))
    assert {pk for pk, _ in sent} == canary_ids and len(canary_ids) == 4
    held = batch.items.filter(canary=False)
    assert held.count() == 6 and set(held.values_list("state", "outcome")) == {(RerunState.HELD, RerunOutcome.HELD)}
    (started,) = events(batch, "rerun.canary_started")
    assert started.data["canary"] == 4 and started.data["held"] == 6 and started.data["min_fixed"] == 0.5


def test_a_canary_that_fixes_enough_expands_the_batch_on_its_own(
    fleet, owner, sent, django_capture_on_commit_callbacks
):
    batch, repos = start(owner, capture=django_capture_on_commit_callbacks, cluster=fleet)
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        batch = settle_canary(batch, repos, fixed=3)
    batch.refresh_from_db()
    assert batch.phase == RerunPhase.EXPANDED and batch.paused_reason == ""
    rest = set(batch.items.filter(canary=False).values_list("pk", flat=True))
    assert {pk for pk, _ in sent} == rest
    assert set(batch.items.filter(canary=False).values_list("state", flat=True)) == {RerunState.QUEUED}
    assert batch.finished_at is None  # the rest still has to run
    (expanded,) = events(batch, "rerun.canary_expanded")
    assert expanded.actor is None and expanded.data["automatic"] is True
    assert (expanded.data["fixed"], expanded.data["ran"], expanded.data["released"]) == (3, 4, 6)


def test_a_canary_that_fixes_too_few_pauses_the_batch_with_the_reason(
    fleet, owner, sent, django_capture_on_commit_callbacks
):
    batch, repos = start(owner, capture=django_capture_on_commit_callbacks, cluster=fleet, min_fixed=0.6)
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        batch = settle_canary(batch, repos, fixed=2)
    batch.refresh_from_db()
    assert batch.phase == RerunPhase.PAUSED
    assert batch.paused_reason == "2 of 4 fixed, below 60%"
    assert sent == []
    assert batch.items.filter(state=RerunState.HELD).count() == 6
    (paused,) = events(batch, "rerun.canary_paused")
    assert paused.data["reason"] == batch.paused_reason and paused.data["fixed"] == 2


def test_a_canary_landing_too_much_in_one_new_cluster_pauses_although_it_fixed_enough(
    owner, sent, django_capture_on_commit_callbacks
):
    fleet = failing_fleet("canary-new", [f"acme/api-{i:02d}" for i in range(12)])
    batch, repos = start(owner, capture=django_capture_on_commit_callbacks, cluster=fleet, size=10, min_fixed=0.3)
    with django_capture_on_commit_callbacks(execute=True):
        batch = settle_canary(batch, repos, fixed=4, new_cause="crate", new=4)
    batch.refresh_from_db()
    landed = batch.items.filter(canary=True, outcome=RerunOutcome.NEW_FAILURE).count()
    assert landed == 4
    assert batch.phase == RerunPhase.PAUSED, batch.paused_reason
    assert batch.paused_reason.startswith("4 of 10 landed in new cluster '")
    assert "fixed" not in batch.paused_reason  # 4 of 10 fixed is above 30%


def test_an_owner_expands_a_paused_canary_and_a_second_expand_changes_nothing(
    fleet, owner, sent, django_capture_on_commit_callbacks
):
    batch, repos = start(owner, capture=django_capture_on_commit_callbacks, cluster=fleet, min_fixed=1.0)
    with django_capture_on_commit_callbacks(execute=True):
        batch = settle_canary(batch, repos, fixed=1)
    batch.refresh_from_db()
    assert batch.phase == RerunPhase.PAUSED
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert rerun_canary_expand(batch=batch, user=owner) == 6
    with django_capture_on_commit_callbacks(execute=True):
        assert rerun_canary_expand(batch=batch, user=owner) is None
    assert rerun_canary_evaluate(batch_id=batch.pk) is None
    batch.refresh_from_db()
    assert batch.phase == RerunPhase.EXPANDED and batch.paused_reason == "1 of 4 fixed, below 100%"
    assert len(sent) == 6
    (expanded,) = events(batch, "rerun.canary_expanded")
    assert expanded.actor == owner and expanded.data["automatic"] is False and expanded.data["from"] == "paused"


def test_two_workers_judging_the_same_settled_canary_expand_it_once(
    fleet, owner, sent, monkeypatch, django_capture_on_commit_callbacks
):
    batch, repos = start(owner, capture=django_capture_on_commit_callbacks, cluster=fleet)
    RerunBatch.objects.filter(pk=batch.pk).update(phase=RerunPhase.FULL)  # judged by hand below
    with django_capture_on_commit_callbacks(execute=True):
        settle_canary(batch, repos, fixed=4)
    RerunBatch.objects.filter(pk=batch.pk).update(phase=RerunPhase.CANARY)
    real_verdict = canary_service.canary_verdict
    outcomes = []

    def verdict_while_another_worker_claims(*args, **kwargs):
        # The other worker reads the same settled canary and claims the phase between this one's read and claim.
        monkeypatch.setattr(canary_service, "canary_verdict", real_verdict)
        outcomes.append(rerun_canary_evaluate(batch_id=batch.pk))
        return real_verdict(*args, **kwargs)

    monkeypatch.setattr(canary_service, "canary_verdict", verdict_while_another_worker_claims)
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        outcomes.append(rerun_canary_evaluate(batch_id=batch.pk))
    assert outcomes == [RerunPhase.EXPANDED, None]
    assert len(events(batch, "rerun.canary_expanded")) == 1
    assert len(sent) == 6 and len({pk for pk, _ in sent}) == 6


def test_the_verdict_waits_for_every_canary_item_to_settle(fleet, owner, sent, django_capture_on_commit_callbacks):
    batch, repos = start(owner, capture=django_capture_on_commit_callbacks, cluster=fleet)
    first = batch.items.filter(canary=True).first()
    RerunItem.objects.filter(pk=first.pk).update(outcome=RerunOutcome.WAITING)
    RerunItem.objects.filter(batch=batch, canary=True).exclude(pk=first.pk).update(
        state=RerunState.SUCCEEDED, outcome=RerunOutcome.FIXED
    )
    assert rerun_canary_evaluate(batch_id=batch.pk) is None
    assert RerunBatch.objects.get(pk=batch.pk).phase == RerunPhase.CANARY
    RerunItem.objects.filter(pk=first.pk).update(state=RerunState.SUCCEEDED, outcome=RerunOutcome.FIXED)
    with django_capture_on_commit_callbacks(execute=True):
        assert rerun_canary_evaluate(batch_id=batch.pk) == RerunPhase.EXPANDED


def test_cancelling_a_canary_cancels_its_held_items_and_it_never_expands(
    fleet, owner, sent, django_capture_on_commit_callbacks
):
    batch, repos = start(owner, capture=django_capture_on_commit_callbacks, cluster=fleet)
    RerunItem.objects.filter(batch=batch, canary=True).update(state=RerunState.RUNNING)
    with django_capture_on_commit_callbacks(execute=True):
        cancelled = rerun_batch_cancel(batch=batch, user=owner)
    assert cancelled == 6  # the canary's 4 are running and finish; the held 6 go
    assert set(batch.items.filter(canary=False).values_list("outcome", flat=True)) == {RerunOutcome.CANCELLED}
    RerunItem.objects.filter(batch=batch, canary=True).update(state=RerunState.SUCCEEDED, outcome=RerunOutcome.FIXED)
    assert rerun_canary_evaluate(batch_id=batch.pk) is None
    assert rerun_canary_expand(batch=batch, user=owner) is None


def test_held_items_never_count_in_a_clusters_fix_rate(fleet, owner, sent, django_capture_on_commit_callbacks):
    batch, repos = start(owner, capture=django_capture_on_commit_callbacks, cluster=fleet, min_fixed=1.0)
    _, _, only = fleet
    with django_capture_on_commit_callbacks(execute=True):
        settle_canary(batch, repos, fixed=1)
    # One fixed of the four canary items that ran; the six held ones neither fixed nor failed anything.
    assert cluster_fix_counts([only.pk])[only.pk] == (1, 4)


def test_a_paused_canary_frees_its_repositories_for_a_rerun_with_another_prompt(
    fleet, owner, sent, django_capture_on_commit_callbacks
):
    migration, _, only = fleet
    batch, repos = start(owner, capture=django_capture_on_commit_callbacks, cluster=fleet, min_fixed=1.0)
    with django_capture_on_commit_callbacks(execute=True):
        batch = settle_canary(batch, repos, fixed=0)
    batch.refresh_from_db()
    assert batch.phase == RerunPhase.PAUSED
    with django_capture_on_commit_callbacks(execute=True):
        again = rerun_batch_create(
            migration=migration,
            user=owner,
            cluster_id=only.pk,
            prompt="Migrate to JUnit 5 with jakarta.",
            canary=spec(),
        )
    # The same selection chooses the same canary.
    assert canary_names(again) == canary_names(batch)
    assert again.items.count() == 10
    # Expanding the old batch now would run the new canary's repositories twice: those are cancelled there.
    with django_capture_on_commit_callbacks(execute=True):
        released = rerun_canary_expand(batch=batch, user=owner)
    assert released == 6
    taken = batch.items.filter(state=RerunState.CANCELLED)
    assert taken.count() == 0 or all("another rerun" in i.error for i in taken)


def test_retrying_a_paused_canarys_failed_runs_judges_the_canary_again(
    fleet, owner, sent, django_capture_on_commit_callbacks
):
    from runs.reruns.services import rerun_batch_retry_failed

    batch, _ = start(owner, capture=django_capture_on_commit_callbacks, cluster=fleet, min_fixed=1.0)
    canary = list(batch.items.filter(canary=True).order_by("id"))
    RerunItem.objects.filter(pk__in=[i.pk for i in canary[1:]]).update(
        state=RerunState.SUCCEEDED, outcome=RerunOutcome.FIXED
    )
    RerunItem.objects.filter(pk=canary[0].pk).update(state=RerunState.FAILED, outcome=RerunOutcome.RUNNER_FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        assert rerun_canary_evaluate(batch_id=batch.pk) == RerunPhase.PAUSED
    with django_capture_on_commit_callbacks(execute=True):
        assert rerun_batch_retry_failed(batch=batch, user=owner) == 1
    batch.refresh_from_db()
    assert batch.phase == RerunPhase.CANARY and batch.paused_reason == ""
    RerunItem.objects.filter(pk=canary[0].pk).update(state=RerunState.SUCCEEDED, outcome=RerunOutcome.FIXED)
    with django_capture_on_commit_callbacks(execute=True):
        assert rerun_canary_evaluate(batch_id=batch.pk) == RerunPhase.EXPANDED
