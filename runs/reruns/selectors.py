"""Reads for rerun pages and the API: batches, their items, counts and before/after per cluster."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from runs.fleet.models import Outcome, Target
from runs.reruns import outcomes
from runs.reruns.models import (
    FAILING_OUTCOMES,
    UNSETTLED_OUTCOMES,
    RerunBatch,
    RerunItem,
    RerunKind,
    RerunOutcome,
    RerunState,
)
from triage.clusters.models import FailureCluster
from triage.clusters.selectors import attempt_clusters

STATE_ORDER = [s.value for s in RerunState]
OUTCOME_ORDER = [o.value for o in RerunOutcome]


def rerun_batch_list(*, migration=None) -> QuerySet[RerunBatch]:
    """Newest first, with the number of items per runner state (`n_<state>`) and per outcome (`o_<outcome>`)."""
    qs = RerunBatch.objects.select_related("migration", "prompt_revision")
    if migration is not None:
        qs = qs.filter(migration=migration)
    annotations = {f"n_{state}": Count("items", filter=Q(items__state=state)) for state in STATE_ORDER}
    annotations |= {f"o_{outcome}": Count("items", filter=Q(items__outcome=outcome)) for outcome in OUTCOME_ORDER}
    return qs.annotate(n_items=Count("items"), **annotations).order_by("-created_at", "-id")


def rerun_batch_outcome_counts(*, batch: RerunBatch) -> dict[str, int]:
    """Items per outcome, every outcome present (zero when none); read from the list's annotations when there."""
    if hasattr(batch, f"o_{OUTCOME_ORDER[0]}"):
        return {outcome: getattr(batch, f"o_{outcome}") for outcome in OUTCOME_ORDER}
    rows = dict(batch.items.values_list("outcome").annotate(n=Count("id")).values_list("outcome", "n"))
    return {outcome: rows.get(outcome, 0) for outcome in OUTCOME_ORDER}


def rerun_outcomes_settled(outcome_counts: dict[str, int]) -> bool:
    """No item's outcome can still change by itself (runner busy or new attempt not yet imported and clustered)."""
    return not any(outcome_counts[o] for o in UNSETTLED_OUTCOMES)


def rerun_still_failing_repos(*, batch: RerunBatch) -> list[str]:
    """Repositories whose new attempt still fails (same or new cause), pre-existing failures left out."""
    pre_existing = Target.objects.filter(migration_id=batch.migration_id, pre_existing_failure=True).values(
        "repository_id"
    )
    rows = batch.items.filter(outcome__in=FAILING_OUTCOMES).exclude(repository_id__in=pre_existing)
    return list(rows.order_by("repository__full_name").values_list("repository__full_name", flat=True))


def rerun_batch_get(*, batch_id: int) -> RerunBatch | None:
    return RerunBatch.objects.select_related("migration", "prompt_revision", "import_run").filter(pk=batch_id).first()


def rerun_batch_counts(*, batch: RerunBatch) -> dict[str, int]:
    """Items per state, every state present (zero when none)."""
    rows = dict(batch.items.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    return {state: rows.get(state, 0) for state in STATE_ORDER}


def rerun_batch_status(counts: dict[str, int], batch: RerunBatch) -> str:
    """One word for the batch: queued, running, held (the rest of a canary waits), cancelled, failed, succeeded
    or partial."""
    active = counts["queued"] + counts["dispatched"] + counts["running"]
    if active:
        return (
            "running" if counts["dispatched"] + counts["running"] or batch.items.exclude(tries=0).exists() else "queued"
        )
    if counts.get("held"):
        return "held"
    if counts["failed"] and not counts["succeeded"]:
        return "failed"
    if counts["cancelled"] and not (counts["succeeded"] or counts["failed"]):
        return "cancelled"
    if counts["failed"] or counts["cancelled"]:
        return "partial"
    return "succeeded"


@dataclass
class CanaryProgress:
    """How far a canary batch's sample is: its items, how many are settled and fixed, and what is held."""

    items: int = 0
    settled: int = 0
    fixed: int = 0
    failing: int = 0
    held: int = 0


def rerun_canary_progress(*, batch: RerunBatch) -> CanaryProgress | None:
    """The canary's counts in one query; None for a batch that did not start as a canary."""
    if not batch.is_canary:
        return None
    rows = batch.items.values_list("canary", "outcome").annotate(n=Count("id")).values_list("canary", "outcome", "n")
    progress = CanaryProgress()
    for canary, outcome, n in rows:
        if outcome == outcomes.HELD:
            progress.held += n
        if not canary:
            continue
        progress.items += n
        progress.settled += 0 if outcome in UNSETTLED_OUTCOMES else n
        progress.fixed += n if outcome == outcomes.FIXED else 0
        progress.failing += n if outcome in FAILING_OUTCOMES else 0
    return progress


def rerun_item_list(*, batch: RerunBatch) -> QuerySet[RerunItem]:
    return batch.items.select_related("repository", "source_attempt", "result_attempt").order_by("id")


@dataclass
class ClusterBeforeAfter:
    """What became of one source cluster's repositories after the rerun."""

    cluster_id: int | None
    title: str
    repos: int = 0
    passed: int = 0
    same_cluster: int = 0
    other_cluster: int = 0
    failed_unclustered: int = 0
    pending: int = 0
    other_clusters: list[tuple[int, str, int]] = field(default_factory=list)


def rerun_before_after(*, batch: RerunBatch) -> list[ClusterBeforeAfter]:
    """Per source cluster: repositories that now pass, fail in the same cluster, or fail in another one."""

    items = list(
        batch.items.exclude(state=RerunState.CANCELLED).values_list(
            "source_cluster_id", "result_attempt_id", "result_attempt__outcome"
        )
    )
    result_ids = [r for _, r, outcome in items if r and outcome != Outcome.SUCCEEDED]
    now_in = attempt_clusters(attempt_ids=result_ids)
    rows: dict[int | None, ClusterBeforeAfter] = {}
    moved: dict[int | None, Counter] = {}
    for source, result_id, outcome in items:
        row = rows.setdefault(source, ClusterBeforeAfter(cluster_id=source, title=""))
        row.repos += 1
        if result_id is None:
            row.pending += 1
        elif outcome in (Outcome.SUCCEEDED, Outcome.NO_CHANGE):
            row.passed += 1
        elif result_id not in now_in:
            row.failed_unclustered += 1
        elif now_in[result_id] == source:
            row.same_cluster += 1
        else:
            row.other_cluster += 1
            moved.setdefault(source, Counter())[now_in[result_id]] += 1
    cluster_ids = {c for c in rows if c is not None} | {c for counts in moved.values() for c in counts}
    titles = {c.pk: str(c) for c in FailureCluster.objects.filter(pk__in=cluster_ids)}
    for source, row in rows.items():
        row.title = titles.get(source, f"cluster {source}") if source is not None else "no cluster"
        row.other_clusters = [(cid, titles.get(cid, f"cluster {cid}"), n) for cid, n in moved.get(source, {}).items()]
    return sorted(rows.values(), key=lambda r: (-r.repos, r.cluster_id or 0))


# Items whose outcome is not known yet, or that never ran: they neither fixed their repository nor failed to.
NOT_ENDED_OUTCOMES = (outcomes.PENDING, outcomes.WAITING, outcomes.CANCELLED, outcomes.HELD)


def cluster_fix_counts(cluster_ids: list[int], members: QuerySet | None = None) -> dict[int, tuple[int, int]]:
    """Cluster id -> (fixed, ended) rerun items started from it, or from one of its members' attempts.

    `members` is a query of the clusters' members (rows with cluster_id and attempt_id; None: count only the
    reruns started from the clusters themselves). One query, and a second one, of the members those items started
    from, when any did. Each item counts once per cluster; items of infrastructure retries, held or not yet ended
    do not count."""
    ids = list(cluster_ids)
    started = Q(source_cluster_id__in=ids)
    if members is not None:
        started |= Q(source_attempt_id__in=members.values("attempt_id"))
    items = list(
        RerunItem.objects.filter(started)
        .exclude(outcome__in=NOT_ENDED_OUTCOMES)
        # An infrastructure retry reruns the same prompt after an outage: it tells nothing of how well it fixes.
        .exclude(batch__kind=RerunKind.INFRASTRUCTURE_RETRY)
        .values_list("source_cluster_id", "source_attempt_id", "outcome")
    )
    sources = {attempt_id for _, attempt_id, _ in items if attempt_id is not None}
    cluster_of_attempt: dict[int, set[int]] = {}
    if sources and members is not None:
        for cluster_id, attempt_id in members.filter(attempt_id__in=sources).values_list("cluster_id", "attempt_id"):
            cluster_of_attempt.setdefault(attempt_id, set()).add(cluster_id)
    counts = {cluster_id: [0, 0] for cluster_id in ids}
    for source_cluster, source_attempt, outcome in items:
        clusters = cluster_of_attempt.get(source_attempt, set()) | ({source_cluster} & counts.keys())
        for cluster_id in clusters:
            counts[cluster_id][1] += 1
            counts[cluster_id][0] += outcome == outcomes.FIXED
    return {cluster_id: (fixed, ended) for cluster_id, (fixed, ended) in counts.items()}
