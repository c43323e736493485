"""What the runs app does when one of its own stages finishes; connected in RunsConfig.ready()."""

from django.dispatch import receiver

from runs.fleet.models import Migration
from runs.fleet.ownership import migrations_claim_unowned
from runs.imports.signals import import_finished


@receiver(import_finished, dispatch_uid="runs-fleet-owners-after-import")
def owners_after_import(sender, *, run, **kwargs) -> None:
    """A person who started an import becomes the owner of the migrations it brought in (when none has one)."""
    if run.requested_by_id is None or run.started_at is None:
        return
    created = Migration.objects.filter(created_at__gte=run.started_at).values_list("id", flat=True)
    migrations_claim_unowned(user=run.requested_by, migration_ids=created)
