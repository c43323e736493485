"""Clusters, layers and reviewer decisions written back to MLflow as assessments, read back through MlflowClient."""

import mlflow
import pytest
from django.db import transaction
from mlflow import MlflowClient

from fleetui.common.roles import MIGRATION_OWNER, REVIEWER
from runs.demo.tracing import fleet_tags, judge_span, write_trace
from runs.fleet.models import Attempt
from runs.reviews.models import ReviewDecision
from runs.reviews.services import review_decision_record
from tests.factories import make_pull_request, make_user
from tests.triage.writeback.helpers import ASSERTION, SYMBOL, assessments, failing_trace, import_traces
from triage.clusters.models import ClusterMember, MlflowLabel
from triage.clusters.services import cluster_merge, cluster_update
from triage.clusters.writeback import CLUSTER, JUDGE_CLUSTER, LAYER, REVIEW, writeback_run

pytestmark = pytest.mark.django_db(transaction=True)


def cluster_of(trace_id: str):
    return ClusterMember.objects.select_related("cluster").get(attempt__trace_id=trace_id).cluster


def fleet(store) -> tuple[list[str], list[str]]:
    """Three traces failing on a missing symbol and two on an assertion, imported and clustered."""
    symbols = [failing_trace(store, f"acme/sym-{n}", SYMBOL) for n in range(3)]
    asserts = [failing_trace(store, f"acme/api-{n}", ASSERTION) for n in range(2)]
    import_traces(store)
    return symbols, asserts


def test_each_member_trace_gets_one_cluster_label_with_its_clusters_title_and_its_layer(store, enabled):
    symbols, asserts = fleet(store)

    for trace_id in symbols + asserts:
        cluster = cluster_of(trace_id)
        [label] = assessments(store, trace_id, CLUSTER)
        assert label.value == cluster.title and cluster.title
        assert label.metadata["cluster_id"] == str(cluster.pk)
        assert label.metadata["migration"] == "junit5"
        assert label.source.source_type == "CODE"
        [layer] = assessments(store, trace_id, LAYER)
        assert layer.value == Attempt.objects.get(trace_id=trace_id).layer == "agent"
    assert cluster_of(symbols[0]) != cluster_of(asserts[0])
    assert MlflowLabel.objects.filter(status=MlflowLabel.Status.WRITTEN).count() == 10


def test_a_retitled_cluster_updates_its_members_labels_in_place(store, enabled):
    symbols, asserts = fleet(store)
    before = {t: assessments(store, t, CLUSTER)[0].assessment_id for t in symbols}

    with transaction.atomic():
        cluster_update(cluster=cluster_of(symbols[0]), actor=make_user(role=MIGRATION_OWNER), title="Jackson moved")

    for trace_id in symbols:
        [label] = assessments(store, trace_id, CLUSTER)
        assert label.value == "Jackson moved"
        assert label.assessment_id == before[trace_id]
    assert all(assessments(store, t, CLUSTER)[0].value != "Jackson moved" for t in asserts)


def test_after_a_merge_every_member_carries_the_merged_cluster_exactly_once(store, enabled):
    symbols, asserts = fleet(store)
    into = cluster_of(symbols[0])

    cluster_merge(source=cluster_of(asserts[0]), into=into, actor=make_user(role=MIGRATION_OWNER))

    for trace_id in symbols + asserts:
        labels = assessments(store, trace_id, CLUSTER)
        assert [(a.value, a.metadata["cluster_id"]) for a in labels] == [(into.title, str(into.pk))]
        assert len(MlflowClient(tracking_uri=store.uri).get_trace(trace_id).info.assessments) == 2


def test_a_reviewers_decision_appears_on_the_trace_as_human_feedback_with_the_note(store, enabled):
    symbols, _ = fleet(store)
    attempt = Attempt.objects.get(trace_id=symbols[0])
    reviewer = make_user("rita", role=REVIEWER)

    with transaction.atomic():
        review_decision_record(
            pull_request=make_pull_request(attempt),
            decision=ReviewDecision.Decision.REQUEST_CHANGES,
            reviewer=reviewer,
            reason="The agent deleted the failing test.",
        )

    [review] = assessments(store, symbols[0], REVIEW)
    assert review.value == "reject"
    assert (review.source.source_type, review.source.source_id) == ("HUMAN", "rita")
    assert review.rationale == "The agent deleted the failing test."
    assert assessments(store, symbols[1], REVIEW) == []


def test_a_changed_decision_replaces_the_review_label_instead_of_adding_one(store, enabled):
    symbols, _ = fleet(store)
    attempt = Attempt.objects.get(trace_id=symbols[0])
    with transaction.atomic():
        row, _ = review_decision_record(
            pull_request=make_pull_request(attempt),
            decision=ReviewDecision.Decision.REQUEST_CHANGES,
            reviewer=make_user("rita", role=REVIEWER),
            reason="Tests deleted.",
        )

    # An admin corrects the decision, as the decisions page cannot.
    row.decision, row.reason = ReviewDecision.Decision.APPROVE, "Looked again: fine."
    row.save()

    [review] = assessments(store, symbols[0], REVIEW)
    assert (review.value, review.rationale) == ("approve", "Looked again: fine.")


def test_nothing_is_written_while_write_back_is_off(store, eager, settings):
    settings.MLFLOW_WRITEBACK = False
    symbols, asserts = fleet(store)

    writeback_run(migration_id=cluster_of(symbols[0]).migration_id)

    assert all(assessments(store, t) == [] for t in symbols + asserts)
    assert not MlflowLabel.objects.exists()


def test_running_twice_writes_nothing_new(store, enabled):
    symbols, asserts = fleet(store)
    migration_id = cluster_of(symbols[0]).migration_id
    before = {t: sorted(a.assessment_id for a in assessments(store, t)) for t in symbols + asserts}

    counts = writeback_run(migration_id=migration_id)

    assert (counts.written, counts.updated, counts.unchanged) == (0, 0, 10)
    assert {t: sorted(a.assessment_id for a in assessments(store, t)) for t in symbols + asserts} == before
    assert set(MlflowLabel.objects.values_list("writes", flat=True)) == {1}


def test_a_trace_deleted_from_mlflow_is_skipped_and_recorded_not_retried(store, enabled):
    symbols, _ = fleet(store)
    gone = symbols[0]
    MlflowClient(tracking_uri=store.uri).delete_traces(experiment_id=store.experiment_id, trace_ids=[gone])
    cluster = cluster_of(gone)

    with transaction.atomic():
        cluster_update(cluster=cluster, actor=make_user(role=MIGRATION_OWNER), title="Jackson moved")
    again = writeback_run(cluster_ids=[cluster.pk])

    record = MlflowLabel.objects.get(trace_id=gone, name=CLUSTER)
    assert record.status == MlflowLabel.Status.TRACE_MISSING and "not found" in record.error.lower()
    assert record.writes == 2
    assert again.missing == 1 and again.written == again.updated == 0
    assert [a.value for a in assessments(store, symbols[1], CLUSTER)] == ["Jackson moved"]


def test_a_label_someone_deleted_in_mlflow_is_written_again_when_it_changes(store, enabled):
    symbols, _ = fleet(store)
    [label] = assessments(store, symbols[0], CLUSTER)
    mlflow.delete_assessment(trace_id=symbols[0], assessment_id=label.assessment_id)

    with transaction.atomic():
        cluster_update(cluster=cluster_of(symbols[0]), actor=make_user(role=MIGRATION_OWNER), title="Jackson moved")

    [again] = assessments(store, symbols[0], CLUSTER)
    assert again.value == "Jackson moved" and again.assessment_id != label.assessment_id
    assert MlflowLabel.objects.get(trace_id=symbols[0], name=CLUSTER).assessment_id == again.assessment_id


def test_a_judge_rejection_is_labelled_with_its_judge_cluster(store, enabled):
    trace_id = write_trace(
        experiment_id=store.experiment_id,
        tags=fleet_tags(repo="acme/judged"),
        spans=[judge_span("reject", "The agent deleted the failing tests instead of fixing them.")],
    )
    import_traces(store)

    cluster = cluster_of(trace_id)
    assert [a.value for a in assessments(store, trace_id, JUDGE_CLUSTER)] == [cluster.title]
    assert assessments(store, trace_id, CLUSTER) == []
