"""What reruns do when a later stage finishes; connected in RunsConfig.ready().

New attempts are linked to their items once an import has run; their outcome is known once clustering has placed
their failures (a failing attempt's cluster decides between still failing and a new failure).
"""

import logging

from django.db import transaction
from django.dispatch import receiver

from runs.imports.signals import import_finished
from runs.reruns.canary import rerun_canaries_evaluate
from runs.reruns.linking import rerun_results_link_waiting
from runs.reruns.models import RerunItem, RerunOutcome
from runs.reruns.selectors import cluster_fix_counts
from runs.reruns.services import rerun_outcomes_update
from triage.clusters.costs import fix_rates_from
from triage.clusters.signals import clustering_finished

logger = logging.getLogger(__name__)

# A cluster's fix rate counts the reruns started from it.
fix_rates_from(cluster_fix_counts)


def _link_waiting() -> None:
    try:
        rerun_results_link_waiting()
    except Exception:
        # A follow-up: a failure here must not turn a finished import into a failed one.
        logger.exception("could not link rerun items to newly imported attempts")
    # The safety net of every canary whose verdict a failed follow-up missed; each verdict is claimed once.
    rerun_canaries_evaluate()


@receiver(import_finished, dispatch_uid="runs-reruns-link-after-import")
def reruns_link_after_import(sender, *, run, **kwargs) -> None:
    """Attempts arrived: point waiting rerun items at them once the import's writes are committed."""
    transaction.on_commit(_link_waiting)


@receiver(clustering_finished, dispatch_uid="runs-reruns-outcomes-after-clustering")
def reruns_outcomes_after_clustering(sender, *, run, **kwargs) -> None:
    """Failures were placed in clusters: judge the migration's items whose new attempt waited for that."""
    waiting = RerunItem.objects.filter(
        migration_id=run.migration_id, outcome=RerunOutcome.WAITING, result_attempt__isnull=False
    )
    rerun_outcomes_update(items=waiting)
