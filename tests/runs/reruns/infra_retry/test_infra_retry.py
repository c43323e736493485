"""Infrastructure failures are retried automatically after an import, within the policy, never against the prompt."""

import pytest

from runs.demo.tracing import experiment, fleet_tags, tracking, write_trace
from runs.fleet.models import AuditEvent, Migration, Repository
from runs.imports.services import import_run_execute
from runs.reruns.infra_retry import infra_retry_countdown
from runs.reruns.models import RerunBatch, RerunItem, RerunKind, RerunOutcome, RerunState
from runs.reruns.recovery import rerun_items_recover
from runs.reruns.selectors import cluster_fix_counts
from runs.reruns.services import rerun_batch_create
from tests.mlflow_support import verify_span

pytestmark = pytest.mark.django_db

NPM_503 = (
    "npm ERR! code E503\nnpm ERR! 503 Service Unavailable - GET https://registry.npmjs.org/react - Service Unavailable"
)
ASSERTION = (
    "[ERROR] LedgerTest.posts:42 expected: <42> but was: <41>\n[ERROR] Tests run: 12, Failures: 1\nBUILD FAILURE"
)


@pytest.fixture
def sent(monkeypatch):
    """Each enqueue's (items, countdown), once its transaction committed."""
    calls = []

    def enqueue(*, items, countdown=None):
        calls.append((list(items), countdown))

    monkeypatch.setattr("runs.reruns.services.rerun_items_enqueue", enqueue)
    monkeypatch.setattr("runs.reruns.recovery.rerun_items_enqueue", enqueue)
    monkeypatch.setattr("runs.reruns.services._watchdog_on_commit", lambda: None)
    return calls


@pytest.fixture
def policy(settings):
    settings.FLEETUI_INFRA_RETRY = 1
    settings.FLEETUI_INFRA_RETRY_BACKOFF = 60
    settings.FLEETUI_RUNNER = "command"
    return settings


@pytest.fixture
def store(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with tracking(uri):
        yield type("Store", (), {"uri": uri, "experiment_id": experiment("fleet/junit5")})


def trace(store, repo: str, output: str, *, attempt: int = 1, verifier: str = "npm") -> None:
    write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo=repo, attempt=attempt),
        spans=[verify_span(verifier=verifier, passed=False, output=output)],
    )


def imported(store, capture) -> None:
    with capture(execute=True):
        run = import_run_execute(tracking_uri=store.uri, trigger="test")
    assert run.status == "succeeded", run.message


def retries() -> list[RerunBatch]:
    return list(RerunBatch.objects.filter(kind=RerunKind.INFRASTRUCTURE_RETRY).order_by("id"))


def test_an_import_bringing_an_infrastructure_failure_retries_that_repository_after_a_backoff(
    store, policy, sent, django_capture_on_commit_callbacks
):
    trace(store, "acme/web", NPM_503)
    trace(store, "acme/tools", ASSERTION, verifier="maven")
    imported(store, django_capture_on_commit_callbacks)
    (batch,) = retries()
    assert list(batch.items.values_list("repository__full_name", flat=True)) == ["acme/web"]
    assert batch.requested_by is None and batch.requested_by_name == "system"
    ((items, countdown),) = sent
    assert [pk for pk, _ in items] == list(batch.items.values_list("pk", flat=True))
    assert 30 <= countdown <= 90  # the base of 60 seconds, jittered
    event = AuditEvent.objects.get(verb="rerun.requested", target_id=str(batch.pk))
    assert event.actor is None and event.data["kind"] == "infrastructure_retry"


def test_a_repository_is_retried_at_most_as_often_as_the_policy_says(
    store, policy, sent, django_capture_on_commit_callbacks
):
    trace(store, "acme/web", NPM_503)
    imported(store, django_capture_on_commit_callbacks)
    (first,) = retries()
    # The retry ran and failed on the registry again; the next import brings that attempt.
    RerunItem.objects.filter(batch=first).update(state=RerunState.SUCCEEDED, outcome=RerunOutcome.NEW_FAILURE)
    trace(store, "acme/web", NPM_503, attempt=2)
    imported(store, django_capture_on_commit_callbacks)
    assert retries() == [first]
    policy.FLEETUI_INFRA_RETRY = 2
    trace(store, "acme/web", NPM_503, attempt=3)
    imported(store, django_capture_on_commit_callbacks)
    assert len(retries()) == 2
    # The second retry waits twice as long: 120 seconds, jittered.
    assert 60 <= sent[-1][1] <= 180


def test_an_import_with_nothing_new_or_a_repository_already_queued_starts_no_retry(
    store, policy, sent, django_capture_on_commit_callbacks
):
    trace(store, "acme/web", NPM_503)
    imported(store, django_capture_on_commit_callbacks)
    RerunBatch.objects.all().delete()
    imported(store, django_capture_on_commit_callbacks)  # the same attempt, imported before this import started
    assert retries() == []
    trace(store, "acme/web", NPM_503, attempt=2)
    migration = Migration.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        rerun_batch_create(migration=migration, user=None, repos=["acme/web"])
    imported(store, django_capture_on_commit_callbacks)
    assert retries() == []


def test_no_retry_when_the_policy_is_zero(store, policy, sent, django_capture_on_commit_callbacks):
    policy.FLEETUI_INFRA_RETRY = 0
    trace(store, "acme/web", NPM_503)
    imported(store, django_capture_on_commit_callbacks)
    assert retries() == [] and sent == []


def test_an_infrastructure_retry_never_counts_in_a_clusters_fix_rate(
    store, policy, sent, django_capture_on_commit_callbacks
):
    trace(store, "acme/web", NPM_503)
    imported(store, django_capture_on_commit_callbacks)
    (batch,) = retries()
    RerunItem.objects.filter(batch=batch).update(
        state=RerunState.SUCCEEDED, outcome=RerunOutcome.FIXED, source_cluster_id=77
    )
    assert cluster_fix_counts([77]) == {77: (0, 0)}
    # The same item in a person's rerun would count.
    RerunBatch.objects.filter(pk=batch.pk).update(kind=RerunKind.RERUN)
    assert cluster_fix_counts([77]) == {77: (1, 1)}


def test_the_watchdog_does_not_send_a_retry_before_its_backoff_is_over(
    policy, sent, django_capture_on_commit_callbacks
):
    from tests.factories import make_attempt, make_migration

    migration = make_migration("infra-watch")
    make_attempt(migration, Repository.objects.create(full_name="acme/api"))
    with django_capture_on_commit_callbacks(execute=True):
        batch = rerun_batch_create(
            migration=migration, user=None, repos=["acme/api"], kind=RerunKind.INFRASTRUCTURE_RETRY, countdown=600
        )
    sent.clear()
    assert rerun_items_recover(stall_after=1) == 0
    assert sent in ([], [([], None)])
    assert batch.items.get().state == RerunState.QUEUED


def test_the_backoff_doubles_per_earlier_retry_and_stays_jittered_within_half_and_one_and_a_half(policy):
    import random

    rng = random.Random(3)
    for earlier, base in ((0, 60), (1, 120), (3, 480)):
        assert all(base * 0.5 <= infra_retry_countdown(earlier, rng=rng) <= base * 1.5 for _ in range(20))
