"""What each rerun of a cluster cost and fixed: read by the cluster page through triage's `rerun_costs_from` hook."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db.models import Q, QuerySet

from runs.reruns import outcomes
from runs.reruns.models import RerunItem, RerunKind
from runs.reruns.selectors import NOT_ENDED_OUTCOMES

# Reruns listed on a cluster's page, newest first.
RERUNS_SHOWN = 10


def cluster_rerun_costs(cluster_id: int, attempt_ids: QuerySet | set[int]) -> list[dict]:
    """The newest reruns started from the cluster or from one of its members' attempts (`attempt_ids`: a query of
    them, or their ids), each with its items from the cluster, how many were fixed and ended, and what their new
    attempts cost; one query."""
    rows = (
        RerunItem.objects.filter(Q(source_cluster_id=cluster_id) | Q(source_attempt_id__in=attempt_ids))
        .values_list(
            "batch_id",
            "batch__created_at",
            "batch__kind",
            "outcome",
            "result_attempt__cost_usd",
            "result_attempt__input_tokens",
            "result_attempt__output_tokens",
        )
        .order_by("-batch_id")
    )
    batches: dict[int, dict] = defaultdict(
        lambda: {"items": 0, "fixed": 0, "ended": 0, "usd": None, "tokens": 0, "created_at": None, "kind": ""}
    )
    for batch_id, created_at, kind, outcome, usd, tokens_in, tokens_out in rows:
        batch = batches[batch_id]
        batch.update(created_at=created_at, kind=kind)
        batch["items"] += 1
        if outcome not in NOT_ENDED_OUTCOMES:
            batch["ended"] += 1
            batch["fixed"] += outcome == outcomes.FIXED
        if usd is not None:
            batch["usd"] = (batch["usd"] or Decimal(0)) + usd
        batch["tokens"] += (tokens_in or 0) + (tokens_out or 0)
    newest = sorted(batches, reverse=True)[:RERUNS_SHOWN]
    return [
        {"batch_id": batch_id, "infrastructure_retry": batches[batch_id]["kind"] == RerunKind.INFRASTRUCTURE_RETRY}
        | batches[batch_id]
        for batch_id in newest
    ]
