"""Canary reruns: a batch runs a sample first and dispatches the rest only when the sample fixes enough.

The rules (size, choice, verdict) are pure and live in `canary_rules`; this module reads and writes around
them. Every phase change is claimed with a conditional UPDATE on the batch's phase, so two workers settling
the last two canary items at once expand (or pause) the batch exactly once.
"""

from __future__ import annotations

import logging
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from runs.fleet.audit import audit_event_record
from runs.fleet.models import Migration
from runs.reruns.canary_rules import CanaryResult, CanarySpec, canary_choose, canary_settled, canary_verdict
from runs.reruns.models import ACTIVE_STATES, RerunBatch, RerunItem, RerunOutcome, RerunPhase, RerunState

logger = logging.getLogger(__name__)

__all__ = [
    "canary_batch_fields",
    "canary_item_fields",
    "canary_repositories_choose",
    "rerun_canary_evaluate",
    "rerun_canaries_evaluate",
    "rerun_canary_expand",
    "rerun_canary_reopen",
]


def default_max_new_cluster_share() -> float:
    """FLEETUI_CANARY_MAX_NEW_CLUSTER_SHARE, held within 0 to 1."""
    return min(1.0, max(0.0, settings.FLEETUI_CANARY_MAX_NEW_CLUSTER_SHARE))


def canary_repositories_choose(*, targets, source_clusters: dict[int, int], size: int) -> set[int]:
    """Repository ids of the canary among the selection's targets (see `canary_rules.canary_choose`)."""
    names = {t.repository.full_name: t.repository_id for t in targets}
    chosen = canary_choose([(t.repository.full_name, source_clusters.get(t.repository_id)) for t in targets], size)
    return {names[name] for name in chosen}


def canary_batch_fields(spec: CanarySpec, size: int) -> dict:
    return {
        "phase": RerunPhase.CANARY,
        "canary_requested": spec.requested,
        "canary_size": size,
        "canary_min_fixed": spec.min_fixed,
        "canary_max_new_cluster_share": spec.max_new_cluster_share,
    }


def canary_item_fields(first: set[int] | None, repository_id: int) -> dict:
    if first is None:
        return {}
    if repository_id in first:
        return {"canary": True}
    return {"state": RerunState.HELD, "outcome": RerunOutcome.HELD}


def canary_started_record(*, batch: RerunBatch, user, spec: CanarySpec, held: int) -> None:
    audit_event_record(
        actor=user,
        verb="rerun.canary_started",
        target=batch,
        migration=batch.migration,
        data={
            **spec.requested,
            "canary": batch.canary_size,
            "held": held,
            "min_fixed": spec.min_fixed,
            "max_new_cluster_share": spec.max_new_cluster_share,
        },
    )


def _release(batch: RerunBatch) -> int:
    """Queue the batch's held items and send their tasks on commit; call inside the phase claim's transaction.

    A held repository another batch took meanwhile (a paused canary does not keep its repositories) is cancelled
    here with that reason, so no repository runs twice.
    """
    from runs.reruns.services import _enqueue_on_commit, _watchdog_on_commit, rerun_batch_finish_if_done

    Migration.objects.select_for_update().filter(pk=batch.migration_id).first()
    now = timezone.now()
    held = RerunItem.objects.filter(batch_id=batch.pk, state=RerunState.HELD)
    taken = RerunItem.objects.filter(migration_id=batch.migration_id, state__in=ACTIVE_STATES).exclude(
        batch_id=batch.pk
    )
    held.filter(repository__in=taken.values("repository")).update(
        state=RerunState.CANCELLED,
        outcome=RerunOutcome.CANCELLED,
        finished_at=now,
        updated_at=now,
        error="queued or running in another rerun when this canary expanded",
    )
    rows = list(held.values_list("pk", "tries"))
    RerunItem.objects.filter(pk__in=[pk for pk, _ in rows], state=RerunState.HELD).update(
        state=RerunState.QUEUED, outcome=RerunOutcome.PENDING, updated_at=now
    )
    if rows:
        RerunBatch.objects.filter(pk=batch.pk).update(finished_at=None)
        _enqueue_on_commit(rows)
        _watchdog_on_commit()
    else:
        transaction.on_commit(partial(rerun_batch_finish_if_done, batch_id=batch.pk))
    return len(rows)


def _results(batch_id: int) -> list[CanaryResult] | None:
    """The canary items' settled results, or None while any of them may still change."""
    from triage.clusters.selectors import attempt_clusters

    rows = list(
        RerunItem.objects.filter(batch_id=batch_id, canary=True).values_list(
            "outcome", "source_cluster_id", "source_attempt_id", "result_attempt_id"
        )
    )
    if not canary_settled([outcome for outcome, *_ in rows]):
        return None
    wanted = {r for _, _, _, r in rows if r} | {a for _, c, a, _ in rows if a and c is None}
    cluster_of = attempt_clusters(attempt_ids=list(wanted)) if wanted else {}
    return [
        CanaryResult(
            outcome=outcome,
            source_cluster=source_cluster or cluster_of.get(source_attempt),
            result_cluster=cluster_of.get(result_attempt),
        )
        for outcome, source_cluster, source_attempt, result_attempt in rows
    ]


def _titles(cluster_ids: list[int]) -> dict[int, str]:
    from triage.clusters.models import FailureCluster

    return {c.pk: str(c)[:120] for c in FailureCluster.objects.filter(pk__in=cluster_ids)}


def rerun_canary_evaluate(*, batch_id: int) -> str | None:
    """Once every canary item has a settled outcome: expand the batch or pause it; the new phase, else None.

    Safe to call any number of times, from any worker: only the caller whose conditional UPDATE moves the phase
    from `canary` writes the audit event and releases the held items.
    """
    batch = (
        RerunBatch.objects.select_related("migration")
        .filter(pk=batch_id, phase=RerunPhase.CANARY, cancelled_at__isnull=True)
        .first()
    )
    if batch is None:
        return None
    results = _results(batch.pk)
    if results is None:
        return None
    verdict = canary_verdict(
        results,
        min_fixed=batch.canary_min_fixed or 0.0,
        max_new_cluster_share=batch.canary_max_new_cluster_share
        if batch.canary_max_new_cluster_share is not None
        else 1.0,
        titles=_titles([r.result_cluster for r in results if r.result_cluster is not None]),
    )
    phase = RerunPhase.EXPANDED if verdict.expand else RerunPhase.PAUSED
    counts = {"fixed": verdict.fixed, "ran": verdict.ran, "new_cluster": verdict.new_cluster}
    with transaction.atomic():
        won = RerunBatch.objects.filter(pk=batch.pk, phase=RerunPhase.CANARY, cancelled_at__isnull=True).update(
            phase=phase, paused_reason=verdict.reason[:1000], phase_changed_at=timezone.now()
        )
        if not won:
            return None
        if verdict.expand:
            released = _release(batch)
            audit_event_record(
                actor=None,
                verb="rerun.canary_expanded",
                target=batch,
                migration=batch.migration,
                data={**counts, "automatic": True, "released": released},
            )
        else:
            audit_event_record(
                actor=None,
                verb="rerun.canary_paused",
                target=batch,
                migration=batch.migration,
                data={**counts, "reason": verdict.reason[:1000]},
            )
    logger.info("rerun #%s canary %s: %s", batch.pk, phase, verdict.reason or "enough fixed")
    return phase


def rerun_canaries_evaluate(*, batch_ids=None) -> int:
    """Evaluate the canary batches among `batch_ids` (every one still in its canary when None); how many moved."""
    batches = RerunBatch.objects.filter(phase=RerunPhase.CANARY, cancelled_at__isnull=True)
    if batch_ids is not None:
        batches = batches.filter(pk__in=list(batch_ids))
    moved = 0
    for batch_id in batches.values_list("pk", flat=True):
        try:
            moved += rerun_canary_evaluate(batch_id=batch_id) is not None
        except Exception:
            # A follow-up of an outcome change: it must not undo that change; the next import looks again.
            logger.exception("could not evaluate the canary of rerun #%s", batch_id)
    return moved


def rerun_canary_expand(*, batch: RerunBatch, user) -> int | None:
    """An owner expands a canary (running or paused) anyway: the held items go out; None when nothing changed."""
    with transaction.atomic():
        won = RerunBatch.objects.filter(
            pk=batch.pk, phase__in=(RerunPhase.CANARY, RerunPhase.PAUSED), cancelled_at__isnull=True
        ).update(phase=RerunPhase.EXPANDED, phase_changed_at=timezone.now())
        if not won:
            return None
        released = _release(batch)
        audit_event_record(
            actor=user,
            verb="rerun.canary_expanded",
            target=batch,
            migration=batch.migration,
            data={"automatic": False, "released": released, "from": batch.phase, "paused_reason": batch.paused_reason},
        )
    return released


def rerun_canary_reopen(*, batch: RerunBatch, item_ids: list[int]) -> bool:
    """Canary items retried after a pause: the canary is judged again once they settle."""
    if not RerunItem.objects.filter(pk__in=item_ids, canary=True).exists():
        return False
    return bool(
        RerunBatch.objects.filter(pk=batch.pk, phase=RerunPhase.PAUSED).update(
            phase=RerunPhase.CANARY, paused_reason="", phase_changed_at=timezone.now()
        )
    )
