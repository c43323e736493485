"""Infrastructure failures retried automatically: a network timeout or a killed runner says nothing about the prompt.

After an import, each repository whose latest attempt (imported by that import) failed in the infrastructure
layer (runs/fleet/layers.py) is rerun with the prompt it ran with, in one batch per migration of kind
`infrastructure_retry`, at most FLEETUI_INFRA_RETRY times per repository and migration ("0" turns it off).
The items go out after FLEETUI_INFRA_RETRY_BACKOFF seconds, doubled per earlier retry, with jitter, so an
outage is not hit again at once. Such batches never feed a cluster's fix rate (`selectors.cluster_fix_counts`).
"""

from __future__ import annotations

import logging
import random

from django.conf import settings
from django.db.models import Count

from runs.fleet.models import FAILED_OUTCOMES, Layer, Phase, Target
from runs.reruns.models import RerunBatch, RerunItem, RerunKind
from runs.reruns.selection import RerunRefused, reserved_items

logger = logging.getLogger(__name__)

BACKOFF_CAP_SECONDS = 3600.0


def infra_retry_countdown(earlier: int, *, rng: random.Random | None = None) -> float:
    """Seconds to wait before a repository's retry number `earlier + 1`: the base doubled per earlier one, jittered."""
    base = max(0.0, float(settings.FLEETUI_INFRA_RETRY_BACKOFF))
    return min(BACKOFF_CAP_SECONDS, base * 2**earlier) * (rng or random.Random()).uniform(0.5, 1.5)


def infra_retry_candidates(*, since=None) -> dict[int, dict[str, int]]:
    """Migration id -> {repository full name: infrastructure retries so far} of the repositories to retry now."""
    limit = settings.FLEETUI_INFRA_RETRY
    if limit <= 0:
        return {}
    targets = Target.objects.filter(
        latest_attempt__layer=Layer.INFRASTRUCTURE,
        latest_attempt__outcome__in=FAILED_OUTCOMES,
        latest_attempt__phase=Phase.MIGRATION,
        pre_existing_failure=False,
    )
    if since is not None:
        targets = targets.filter(latest_attempt__imported_at__gte=since)
    rows = list(targets.values_list("migration_id", "repository_id", "repository__full_name"))
    if not rows:
        return {}
    migration_ids = {m for m, _, _ in rows}
    counted = (
        RerunItem.objects.filter(batch__kind=RerunKind.INFRASTRUCTURE_RETRY, migration_id__in=migration_ids)
        .values_list("migration_id", "repository_id")
        .annotate(n=Count("id"))
        .values_list("migration_id", "repository_id", "n")
    )
    earlier = {(m, r): n for m, r, n in counted}
    busy = set(
        RerunItem.objects.filter(reserved_items(), migration_id__in=migration_ids).values_list(
            "migration_id", "repository_id"
        )
    )
    out: dict[int, dict[str, int]] = {}
    for migration_id, repository_id, name in rows:
        tries = earlier.get((migration_id, repository_id), 0)
        if tries < limit and (migration_id, repository_id) not in busy:
            out.setdefault(migration_id, {})[name] = tries
    return out


def infra_retries_start(*, since=None) -> list[RerunBatch]:
    """Start the infrastructure retries due now (see the module's docstring); the batches made."""
    from runs.fleet.models import Migration
    from runs.reruns.services import rerun_batch_create

    batches = []
    for migration_id, names in infra_retry_candidates(since=since).items():
        migration = Migration.objects.filter(pk=migration_id).first()
        if migration is None:
            continue
        repos = sorted(names)[: settings.RERUN_MAX_BATCH]
        try:
            batch = rerun_batch_create(
                migration=migration,
                user=None,
                repos=repos,
                kind=RerunKind.INFRASTRUCTURE_RETRY,
                countdown=infra_retry_countdown(min(names[r] for r in repos)),
            )
        except RerunRefused as exc:
            # Taken meanwhile by a person's rerun, say: the next import looks again.
            logger.info("no infrastructure retry for %s: %s", migration.slug, exc)
            continue
        batches.append(batch)
    if batches:
        logger.info("retrying infrastructure failures in %d batches", len(batches))
    return batches
