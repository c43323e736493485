"""Counts of each cluster's members and of their repositories' attempts, kept in one row per cluster.

The cluster list and a cluster's page read a cluster's cost, layers, members per day, why members were placed and
the repositories that joined last from `ClusterCounts` instead of joining every member to its attempts per
request. The rows are counted again whenever members move (`clusters_refresh_counts`: assignment, rebuild, merge,
split) and once an import that changed a migration's attempts is committed (`receivers.py`); a cluster without a
row is counted when a page first asks for it, so the pages never show less than a live count would.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from runs.fleet.models import Attempt
from triage.clusters.models import ClusterCounts, ClusterJoins, ClusterMember, FailureCluster

logger = logging.getLogger(__name__)
CHUNK = 500
RECENT = 2
SUM_FIELDS = (
    "usd_known",
    "priced_known",
    "tokens_in",
    "tokens_out",
    "open_in",
    "open_out",
    "open_attempts",
    "agent_ms",
)
KEPT_FIELDS = [*SUM_FIELDS, "members", "layers", "days", "why", "recent"]
# How far back members' joins are kept by the hour (ClusterJoins): the overview asks for the last day.
JOINS_KEPT = timedelta(days=2)


def raw_spend_by_pair(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], dict]:
    """(migration id, repository id) -> the unpriced sums of its attempts (SUM_FIELDS); one query."""
    from triage.clusters.costs import spend_rows  # costs reads this module's rows

    if not pairs:
        return {}
    attempts = Attempt.objects.filter(migration_id__in={m for m, _ in pairs}, repository_id__in={r for _, r in pairs})
    found = {}
    for row in spend_rows(attempts, ("migration_id", "repository_id")):
        key = (row["migration_id"], row["repository_id"])
        if key in pairs:
            found[key] = {
                "usd_known": row["known"] if row["known_n"] else None,
                "priced_known": row["known_n"],
                "tokens_in": row["tokens_in"] or 0,
                "tokens_out": row["tokens_out"] or 0,
                "open_in": row["open_in"] or 0 if row["open_n"] else 0,
                "open_out": row["open_out"] or 0 if row["open_n"] else 0,
                "open_attempts": row["open_n"],
                "agent_ms": row["ms"] or 0,
            }
    return found


def _counted(ids: list[int]) -> dict[int, ClusterCounts]:
    """Count clusters from their members and attempts; two queries (unsaved rows, each with `joins`: the hours of
    the last JOINS_KEPT and how many members joined in each)."""
    rows = ClusterMember.objects.filter(cluster_id__in=ids).values_list(
        "id",
        "cluster_id",
        "migration_id",
        "repository_id",
        "attempt__layer",
        "attempt__ended_at",
        "why",
        "joined_at",
        "repository__full_name",
    )
    found = {pk: ClusterCounts(cluster_id=pk, layers={}, days={}, why={}, recent=[]) for pk in ids}
    pairs_of: dict[int, set[tuple[int, int]]] = defaultdict(set)
    layers: dict[int, Counter] = defaultdict(Counter)
    days: dict[int, Counter] = defaultdict(Counter)
    why: dict[int, Counter] = defaultdict(Counter)
    joined: dict[int, list] = defaultdict(list)
    hours: dict[int, Counter] = defaultdict(Counter)
    kept_since = timezone.now() - JOINS_KEPT
    for pk, cluster_id, migration_id, repository_id, layer, ended_at, reason, joined_at, name in rows:
        found[cluster_id].members += 1
        pairs_of[cluster_id].add((migration_id, repository_id))
        if layer:  # blank while an attempt is still running
            layers[cluster_id][layer] += 1
        if ended_at is not None:
            days[cluster_id][timezone.localtime(ended_at).date().isoformat()] += 1
        why[cluster_id][reason] += 1
        joined[cluster_id].append((joined_at, pk, name))
        if joined_at is not None and joined_at >= kept_since:
            hours[cluster_id][joined_at.replace(minute=0, second=0, microsecond=0)] += 1
    spends = raw_spend_by_pair({pair for pairs in pairs_of.values() for pair in pairs})
    for cluster_id, kept in found.items():
        kept.layers, kept.days, kept.why = dict(layers[cluster_id]), dict(days[cluster_id]), dict(why[cluster_id])
        kept.recent = [name for _, _, name in sorted(joined[cluster_id], reverse=True)[:RECENT]]
        kept.joins = hours[cluster_id]
        for pair in pairs_of[cluster_id]:
            _add(kept, spends.get(pair))
    return found


def _add(kept: ClusterCounts, spend: dict | None) -> None:
    if spend is None:
        return
    for name in SUM_FIELDS:
        value = spend[name]
        if name == "usd_known":
            if value is not None:
                kept.usd_known = (kept.usd_known or Decimal(0)) + value
        else:
            setattr(kept, name, getattr(kept, name) + value)


def _keep(rows: list[ClusterCounts]) -> None:
    """Write counted rows over the kept ones; a cluster deleted meanwhile is skipped."""
    if not rows:
        return
    try:
        with transaction.atomic():
            ClusterCounts.objects.bulk_create(
                rows, update_conflicts=True, unique_fields=["cluster"], update_fields=[*KEPT_FIELDS, "counted_at"]
            )
            ClusterJoins.objects.filter(cluster_id__in=[row.cluster_id for row in rows]).delete()
            ClusterJoins.objects.bulk_create(
                [
                    ClusterJoins(cluster_id=row.cluster_id, hour=hour, members=n)
                    for row in rows
                    for hour, n in getattr(row, "joins", {}).items()
                ],
                update_conflicts=True,
                unique_fields=["cluster", "hour"],
                update_fields=["members"],
            )
    except IntegrityError:
        existing = set(FailureCluster.objects.filter(pk__in=[r.cluster_id for r in rows]).values_list("pk", flat=True))
        kept = [r for r in rows if r.cluster_id in existing]
        if len(kept) < len(rows):
            _keep(kept)


def _drop(ids: list[int]) -> None:
    """Forget these clusters' kept counts and joins: the pages count them again when next asked for."""
    ClusterCounts.objects.filter(cluster_id__in=ids).delete()
    ClusterJoins.objects.filter(cluster_id__in=ids).delete()


def cluster_counts_refresh(*, cluster_ids: Iterable[int]) -> None:
    """Count these clusters again and keep the counts; clusters that no longer exist are left out."""
    ids = sorted(set(cluster_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = list(FailureCluster.objects.filter(pk__in=ids[start : start + CHUNK]).values_list("pk", flat=True))
        if chunk:
            _keep(list(_counted(chunk).values()))


def cluster_counts_refresh_migrations(*, migration_ids: Iterable[int] | None) -> None:
    """Count every cluster of these migrations (of all when None) again; on failure their rows are dropped, and
    the pages count those clusters when they are next asked for."""
    clusters = FailureCluster.objects.all()
    if migration_ids is not None:
        clusters = clusters.filter(migration_id__in=list(migration_ids))
    ids = list(clusters.values_list("pk", flat=True))
    try:
        _drop(ids)
        cluster_counts_refresh(cluster_ids=ids)
    except Exception:
        logger.exception("counting the clusters of migrations %s again failed", migration_ids)
        _drop(ids)


def cluster_counts_refresh_changed(*, since) -> int:
    """Count again the clusters holding a repository whose attempts changed since a time (what an import wrote:
    its spend or layers moved even where no member did); returns how many. On failure their rows are dropped, and
    the pages count those clusters when they are next asked for."""
    changed = Attempt.objects.filter(
        migration_id=OuterRef("migration_id"), repository_id=OuterRef("repository_id"), updated_at__gte=since
    )
    ids: list[int] = []
    try:
        ids = sorted(set(ClusterMember.objects.filter(Exists(changed)).values_list("cluster_id", flat=True).order_by()))
        cluster_counts_refresh(cluster_ids=ids)
    except Exception:
        logger.exception("counting the clusters changed since %s again failed", since)
        _drop(ids)
    return len(ids)


def cluster_counts_many(*, cluster_ids: Iterable[int]) -> dict[int, ClusterCounts]:
    """cluster id -> its kept counts; clusters without kept counts are counted now and kept (one query when all
    are kept, three more otherwise)."""
    ids = list(dict.fromkeys(cluster_ids))
    if not ids:
        return {}
    found = ClusterCounts.objects.in_bulk(ids)
    missing = [pk for pk in ids if pk not in found]
    if missing:
        counted = _counted(missing)
        _keep(list(counted.values()))
        found.update(counted)
    return found
