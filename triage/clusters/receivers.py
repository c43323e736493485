"""What clustering does when an earlier stage finishes; connected in TriageConfig.ready()."""

from functools import partial

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from runs.fleet.models import AuditEvent
from runs.imports.signals import import_finished
from triage.clusters.counts import cluster_counts_refresh_changed
from triage.clusters.models import ClusteringRun
from triage.clusters.services import after_import
from triage.clusters.signals import clustering_finished
from triage.clusters.writeback import writeback_enqueue


@receiver(import_finished, dispatch_uid="triage-clusters-after-import")
def clusters_after_import(sender, *, run, **kwargs) -> None:
    """New failures arrived: place them in clusters once the import's writes are committed."""
    after_import(run)


@receiver(import_finished, dispatch_uid="triage-clusters-counts-after-import")
def cluster_counts_after_import(sender, *, run, **kwargs) -> None:
    """An import wrote attempts: the clusters of their repositories are counted again (cost, layers) once it is
    committed; placing the new failures counts the clusters they join (`clusters_refresh_counts`)."""
    since = getattr(run, "started_at", None)
    if since is not None:
        transaction.on_commit(partial(cluster_counts_refresh_changed, since=since))


# --- Labels back to MLflow (triage/clusters/writeback.py): after clustering, triage actions and decisions. ---

# The triage actions that change what a cluster's members are labelled with; each writes one audit event.
RELABELLING_VERBS = {"cluster.update", "cluster.merge", "cluster.split"}


@receiver(clustering_finished, dispatch_uid="triage-clusters-writeback-after-clustering")
def writeback_after_clustering(sender, *, run, **kwargs) -> None:
    """Clusters were rebuilt or new failures placed: label the migration's traces in MLflow."""
    if run.status == ClusteringRun.Status.SUCCEEDED:
        writeback_enqueue(migration_id=run.migration_id)


@receiver(post_save, sender=AuditEvent, dispatch_uid="triage-clusters-writeback-after-triage")
def writeback_after_triage(sender, *, instance, created, **kwargs) -> None:
    """A cluster was retitled, merged or split: relabel the members of the clusters it touched."""
    if not created or instance.verb not in RELABELLING_VERBS or not instance.target_id.isdigit():
        return
    ids = [int(instance.target_id)]
    source = (instance.data or {}).get("source")
    if instance.verb == "cluster.split" and isinstance(source, int):
        ids.append(source)
    writeback_enqueue(cluster_ids=ids)


@receiver(post_save, sender="runs.ReviewDecision", dispatch_uid="triage-clusters-writeback-after-review")
@receiver(post_delete, sender="runs.ReviewDecision", dispatch_uid="triage-clusters-writeback-after-review-gone")
def writeback_after_review(sender, *, instance, update_fields=None, **kwargs) -> None:
    """A reviewer decided (or a decision changed or went away): label the attempt's trace with it."""
    if update_fields and not {"decision", "reason", "reviewer", "reviewer_name"} & set(update_fields):
        return  # only the GitHub push's progress
    writeback_enqueue(attempt_ids=[instance.attempt_id])
