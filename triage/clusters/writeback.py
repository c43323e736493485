"""Labels back to MLflow: each cluster member's trace gets its cluster and layer, a reviewed attempt's the decision.

Every assessment written is recorded (`MlflowLabel`: trace, name, assessment id, hash of what was sent), so a
rewrite updates the same assessment, an unchanged label costs no call, and a label that no longer applies is
deleted. Off unless `FLEETUI_MLFLOW_WRITEBACK=1`; see docs/mlflow-writeback.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from fleetui.common.errors import PermanentAPIError
from runs.fleet.models import Attempt
from triage.clusters.models import ClusterKind, ClusterMember, FailureCluster, MlflowLabel
from triage.clusters.writeback_client import HUMAN, AssessmentClient, Label, NotFound

logger = logging.getLogger(__name__)

CLUSTER = "fleet.cluster"
JUDGE_CLUSTER = "fleet.judge_cluster"
LAYER = "fleet.layer"
REVIEW = "fleet.review"
NAMES = (CLUSTER, JUDGE_CLUSTER, LAYER, REVIEW)
CLUSTER_NAME = {ClusterKind.VERIFY: CLUSTER, ClusterKind.JUDGE: JUDGE_CLUSTER}
# Attempts per batch: their labels and records are read in a few queries, then written one call each.
CHUNK = 200
# A claim older than this belongs to a worker that died mid-write.
CLAIM_STALE_SECONDS = 600
Status = MlflowLabel.Status


@dataclass
class WritebackCounts:
    """What one write-back run did; logged, and the records keep the rest."""

    written: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    missing: int = 0
    failed: int = 0
    busy: int = 0
    last_error: str = ""

    def __str__(self) -> str:
        return (
            f"{self.written} written, {self.updated} updated, {self.unchanged} unchanged, {self.deleted} deleted, "
            f"{self.missing} traces gone, {self.failed} failed, {self.busy} being written elsewhere"
        )


def writeback_enabled() -> bool:
    return bool(getattr(settings, "MLFLOW_WRITEBACK", False))


def writeback_enqueue(*, migration_id: int | None = None, cluster_ids=(), attempt_ids=()) -> None:
    """Once the caller's writes commit, queue a write-back of these labels; nothing when it is switched off."""
    if not writeback_enabled():
        return
    # Here, not at the top: the tasks module imports this one.
    from triage.clusters.tasks import mlflow_writeback_task

    def enqueue() -> None:
        # A follow-up: a broker hiccup must not fail the clustering run or the decision that asked for it.
        try:
            mlflow_writeback_task.delay(
                migration_id=migration_id, cluster_ids=list(cluster_ids), attempt_ids=list(attempt_ids)
            )
        except Exception:
            logger.exception("could not queue the MLflow write-back")

    transaction.on_commit(enqueue)


def writeback_run(
    *, migration_id: int | None = None, cluster_ids: Iterable[int] = (), attempt_ids: Iterable[int] = ()
) -> WritebackCounts:
    """Writes the labels of a migration's traces, of some clusters' members, or of some attempts."""
    counts = WritebackCounts()
    if not writeback_enabled():
        return counts
    ids = _scope(migration_id=migration_id, cluster_ids=list(cluster_ids), attempt_ids=list(attempt_ids))
    client = AssessmentClient(settings.MLFLOW_TRACKING_URI)
    try:
        for start in range(0, len(ids), CHUNK):
            _write_chunk(client, ids[start : start + CHUNK], counts)
    finally:
        if counts.failed:
            logger.warning("MLflow write-back of %d attempts: %s; last error: %s", len(ids), counts, counts.last_error)
        else:
            logger.info("MLflow write-back of %d attempts: %s", len(ids), counts)
    return counts


def _scope(*, migration_id: int | None, cluster_ids: list[int], attempt_ids: list[int]) -> list[int]:
    """The attempts whose labels to (re)write: members, reviewed attempts, and those labelled before."""
    ids = set(attempt_ids)
    if cluster_ids:
        ids |= set(ClusterMember.objects.filter(cluster_id__in=cluster_ids).values_list("attempt_id", flat=True))
        labelled = MlflowLabel.objects.filter(cluster_id__in=cluster_ids).values_list("trace_id", flat=True)
        ids |= set(Attempt.objects.filter(trace_id__in=labelled).values_list("pk", flat=True))
    if migration_id is not None:
        ids |= set(ClusterMember.objects.filter(migration_id=migration_id).values_list("attempt_id", flat=True))
        decisions = apps.get_model("runs", "ReviewDecision").objects.filter(migration_id=migration_id)
        ids |= set(decisions.values_list("attempt_id", flat=True))
        labelled = MlflowLabel.objects.filter(migration_id=migration_id).values_list("trace_id", flat=True)
        ids |= set(Attempt.objects.filter(trace_id__in=labelled).values_list("pk", flat=True))
    return sorted(ids)


def _write_chunk(client: AssessmentClient, attempt_ids: list[int], counts: WritebackCounts) -> None:
    attempts = list(Attempt.objects.filter(pk__in=attempt_ids).select_related("migration"))
    wanted = labels_for(attempts)
    migration_of = {a.trace_id: a.migration_id for a in attempts}
    records = {
        (r.trace_id, r.name): r for r in MlflowLabel.objects.filter(trace_id__in=list(migration_of), name__in=NAMES)
    }
    new = [
        MlflowLabel(trace_id=label.trace_id, name=label.name, migration_id=migration_of[label.trace_id])
        for labels in wanted.values()
        for label in labels
        if (label.trace_id, label.name) not in records
    ]
    if new:
        MlflowLabel.objects.bulk_create(new, ignore_conflicts=True)
        keys = {r.trace_id for r in new}
        records |= {(r.trace_id, r.name): r for r in MlflowLabel.objects.filter(trace_id__in=keys, name__in=NAMES)}
    for trace_id in migration_of:
        labels = wanted.get(trace_id, [])
        for label in labels:
            _write_one(client, label, records[(trace_id, label.name)], counts)
        kept = {label.name for label in labels}
        for (trace, name), record in records.items():
            if trace == trace_id and name not in kept:
                _delete_one(client, record, counts)


def labels_for(attempts: list[Attempt]) -> dict[str, list[Label]]:
    """trace id -> the labels its attempt should carry now (three queries for any number of attempts)."""
    by_id = {a.pk: a for a in attempts}
    labels: dict[str, list[Label]] = {a.trace_id: [] for a in attempts}
    members = ClusterMember.objects.filter(attempt_id__in=list(by_id)).select_related("cluster")
    member_attempts = set()
    for member in members.order_by("attempt_id", "kind", "pk"):
        attempt, cluster = by_id[member.attempt_id], member.cluster
        member_attempts.add(attempt.pk)
        metadata = {
            "cluster_id": cluster.pk,
            "migration": attempt.migration.slug,
            "kind": cluster.kind,
            "signature": member.signature or cluster.signature,
        }
        value = cluster.title or f"cluster {cluster.pk}"
        rationale = (member.deciding_line or "")[:500] or None
        labels[attempt.trace_id].append(
            Label(attempt.trace_id, CLUSTER_NAME[member.kind], value, rationale=rationale, metadata=metadata)
        )
    decisions = apps.get_model("runs", "ReviewDecision").objects.filter(attempt_id__in=list(by_id))
    reviewed = {}
    for decision in decisions.select_related("pull_request").order_by("attempt_id", "created_at", "pk"):
        reviewed[decision.attempt_id] = decision  # the latest one wins
    for attempt_id, decision in reviewed.items():
        attempt = by_id[attempt_id]
        value = "approve" if decision.decision == decision.Decision.APPROVE else "reject"
        metadata = {"decision": decision.decision, "pull_request": decision.pull_request.url or ""}
        labels[attempt.trace_id].append(
            Label(
                attempt.trace_id,
                REVIEW,
                value,
                source_type=HUMAN,
                source_id=(decision.reviewer_name or "reviewer")[:200],
                rationale=decision.reason[:5000] or None,
                metadata=metadata,
            )
        )
    for attempt in attempts:
        if attempt.layer and (attempt.pk in member_attempts or attempt.pk in reviewed):
            labels[attempt.trace_id].append(Label(attempt.trace_id, LAYER, attempt.layer))
    # Keep one label per name: an attempt is in at most one cluster of each kind.
    return {trace: list({label.name: label for label in found}.values()) for trace, found in labels.items()}


def label_hash(label: Label) -> str:
    payload = [label.value, label.rationale, sorted(label.metadata.items()), label.source_type, label.source_id]
    return hashlib.sha256(json.dumps(payload, default=str).encode()).hexdigest()


def _claim(record: MlflowLabel) -> bool:
    """Marks the record being written; False when another worker holds it."""
    now = timezone.now()
    stale = now - timezone.timedelta(seconds=CLAIM_STALE_SECONDS)
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale)
    return MlflowLabel.objects.filter(free, pk=record.pk).update(claimed_at=now) == 1


def _write_one(client: AssessmentClient, label: Label, record: MlflowLabel, counts: WritebackCounts) -> None:
    digest = label_hash(label)
    if record.value_hash == digest and record.status in (Status.WRITTEN, Status.TRACE_MISSING):
        if record.status == Status.TRACE_MISSING:
            counts.missing += 1
        else:
            counts.unchanged += 1
        return
    if not _claim(record):
        counts.busy += 1
        return
    record.value_hash, record.error, record.claimed_at = digest, "", None
    record.cluster_id = label.metadata.get("cluster_id")
    record.writes += 1
    try:
        if record.assessment_id and record.source_id == label.source_id:
            record.assessment_id = _update_or_log(client, record.assessment_id, label)
            counts.updated += 1
        else:
            # New, or another person's decision: an assessment's source cannot change, so it is replaced.
            if record.assessment_id:
                _delete_quietly(client, label.trace_id, record.assessment_id)
            record.assessment_id = client.log(label)
            counts.written += 1
        record.status, record.source_id = Status.WRITTEN, label.source_id
    except NotFound as exc:
        record.status, record.error = Status.TRACE_MISSING, str(exc)[:1000]
        counts.missing += 1
    except Exception as exc:
        # Transient errors are raised again for the task to retry; the record keeps the error meanwhile.
        record.status, record.error, record.value_hash = Status.FAILED, str(exc)[:1000], ""
        counts.failed, counts.last_error = counts.failed + 1, record.error
        record.save()
        if not isinstance(exc, PermanentAPIError):
            raise
        return
    record.save()


def _update_or_log(client: AssessmentClient, assessment_id: str, label: Label) -> str:
    """Updates the recorded assessment; writes a new one when someone deleted it in MLflow."""
    try:
        return client.update(assessment_id, label)
    except NotFound:
        if not client.trace_exists(label.trace_id):
            raise
        return client.log(label)


def _delete_one(client: AssessmentClient, record: MlflowLabel, counts: WritebackCounts) -> None:
    """The label no longer applies (the attempt left its cluster, the decision was withdrawn): remove it."""
    if not _claim(record):
        counts.busy += 1
        return
    if record.assessment_id and record.status == Status.WRITTEN:
        _delete_quietly(client, record.trace_id, record.assessment_id)
    record.delete()
    counts.deleted += 1


def _delete_quietly(client: AssessmentClient, trace_id: str, assessment_id: str) -> None:
    try:
        client.delete(trace_id, assessment_id)
    except NotFound:
        pass


def cluster_writeback_summary(*, cluster: FailureCluster) -> dict | None:
    """Counts per status of the cluster's labels in MLflow and the last error; None when none were written."""
    if not writeback_enabled():
        return None  # no query on the page while write-back is off
    rows = MlflowLabel.objects.filter(cluster_id=cluster.pk, name=CLUSTER_NAME.get(cluster.kind, CLUSTER))
    counts = dict(rows.values_list("status").annotate(n=Count("id")).order_by())
    if not counts:
        return None
    failed = None
    if counts.get(Status.FAILED):
        failed = rows.filter(status=Status.FAILED).exclude(error="").order_by("-updated_at").first()
    return {
        "written": counts.get(Status.WRITTEN, 0),
        "missing": counts.get(Status.TRACE_MISSING, 0),
        "failed": counts.get(Status.FAILED, 0),
        "pending": counts.get(Status.PENDING, 0),
        "last_error": failed.error[:300] if failed else "",
    }


def mlflow_ui_base() -> str:
    """MLflow's UI address: MLFLOW_UI_URL, else the tracking URI when it is a server; "" when there is none."""
    base = (settings.MLFLOW_UI_URL or "").strip()
    if not base and settings.MLFLOW_TRACKING_URI.startswith(("http://", "https://")):
        base = settings.MLFLOW_TRACKING_URI
    return base.rstrip("/")


def cluster_mlflow_search_url(*, cluster: FailureCluster) -> str:
    """MLflow's trace search of the cluster's members (by their fleet.cluster label); "" without a UI address."""
    base = mlflow_ui_base()
    if not base:
        return ""
    # The traces page shows one experiment: the one holding most of the members.
    busiest = (
        ClusterMember.objects.filter(cluster=cluster)
        .exclude(attempt__experiment_id="")
        .values("attempt__experiment_id")
        .annotate(n=Count("id"))
        .order_by("-n", "attempt__experiment_id")
        .first()
    )
    if busiest is None:
        return ""
    experiment_id = busiest["attempt__experiment_id"]
    # The traces page reads `filter=<column>::<operator>::<value>::<key>` and quotes the value as is, so a title
    # with a quote or the separator in it cannot be searched for exactly: the migration's labelled traces instead.
    title = cluster.title or f"cluster {cluster.pk}"
    name = CLUSTER_NAME.get(cluster.kind, CLUSTER)
    if "'" in title or "::" in title or "\n" in title:
        filters = [f"ASSESSMENT::IS NOT NULL::::{name}"]
    else:
        filters = [f"ASSESSMENT::=::{title}::{name}"]
    filters.append(f"TAG::=::{cluster.migration.slug}::fleet.migration")
    query = urlencode([("filter", f) for f in filters], quote_via=quote)
    return f"{base}/#/experiments/{quote(experiment_id, safe='')}/traces?{query}"
