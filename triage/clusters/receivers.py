"""What clustering does when an earlier stage finishes; connected in TriageConfig.ready()."""

from django.dispatch import receiver

from runs.imports.signals import import_finished
from triage.clusters.services import after_import


@receiver(import_finished, dispatch_uid="triage-clusters-after-import")
def clusters_after_import(sender, *, run, **kwargs) -> None:
    """New failures arrived: place them in clusters once the import's writes are committed."""
    after_import(run)
