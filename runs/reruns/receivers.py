"""What reruns do when a later stage finishes; connected in RunsConfig.ready().

New attempts are linked to their items once an import has run; their outcome is known once clustering has placed
their failures (a failing attempt's cluster decides between still failing and a new failure).
"""

import logging
from functools import partial

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver

from runs.imports.signals import import_finished
from runs.reruns.canary import rerun_canaries_evaluate
from runs.reruns.costs import cluster_rerun_costs
from runs.reruns.infra_retry import infra_retries_start
from runs.reruns.linking import rerun_results_link_waiting
from runs.reruns.models import RerunItem, RerunOutcome
from runs.reruns.selectors import cluster_fix_counts
from runs.reruns.services import rerun_outcomes_update
from triage.clusters.costs import fix_rates_from, rerun_costs_from
from triage.clusters.signals import clustering_finished

logger = logging.getLogger(__name__)

# A cluster's fix rate counts the reruns started from it.
fix_rates_from(cluster_fix_counts)
# And its page lists what each of them cost.
rerun_costs_from(cluster_rerun_costs)


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


def _retry_infrastructure(since) -> None:
    try:
        infra_retries_start(since=since)
    except Exception:
        # A follow-up as well: the next import looks again.
        logger.exception("could not start the retries of infrastructure failures")


@receiver(import_finished, dispatch_uid="runs-reruns-infra-retry-after-import")
def reruns_infra_retry_after_import(sender, *, run, **kwargs) -> None:
    """Attempts arrived: rerun those that failed in the infrastructure layer, as FLEETUI_INFRA_RETRY allows."""
    if settings.FLEETUI_INFRA_RETRY > 0:
        transaction.on_commit(partial(_retry_infrastructure, run.started_at or run.created_at))


@receiver(clustering_finished, dispatch_uid="runs-reruns-outcomes-after-clustering")
def reruns_outcomes_after_clustering(sender, *, run, **kwargs) -> None:
    """Failures were placed in clusters: judge the migration's items whose new attempt waited for that."""
    waiting = RerunItem.objects.filter(
        migration_id=run.migration_id, outcome=RerunOutcome.WAITING, result_attempt__isnull=False
    )
    rerun_outcomes_update(items=waiting)
