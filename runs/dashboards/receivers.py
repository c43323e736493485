"""Counts kept for the pages, refreshed when a stage that changes them finishes (see runs/dashboards/counts.py).

Connected in RunsConfig.ready()."""

import logging
from functools import partial

from django.db import transaction
from django.dispatch import receiver

from runs.imports.signals import import_finished

logger = logging.getLogger(__name__)


@receiver(import_finished, dispatch_uid="runs-dashboards-counts-after-import")
def counts_after_import(sender, *, run, **kwargs) -> None:
    """An import wrote attempts and targets: count the migrations it changed again, once its writes are committed."""
    transaction.on_commit(partial(_refresh_after_import, run.started_at))


def _refresh_after_import(since) -> None:
    from runs.dashboards.counts import migration_counts_forget, migration_counts_refresh, migrations_changed_since

    # Counting again must never make the import fail; counts that could not be kept are dropped, and the pages
    # count those migrations live until the next import keeps them again.
    changed = None
    try:
        changed = None if since is None else migrations_changed_since(since)
        if changed != []:
            migration_counts_refresh(migration_ids=changed)
    except Exception:
        logger.exception("counting the migrations again after an import failed")
        migration_counts_forget(migration_ids=changed)
