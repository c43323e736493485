"""A repository whose latest attempt passed but verified nothing is unverified, not succeeded."""

from django.db import migrations, models
from django.db.models import Count

BATCH = 1000


def _move(apps, targets, to_state: str) -> None:
    """Set the targets' state, a batch of ids at a time, so a large fleet never holds one long update; the kept
    counts of the migrations they are in are counted again by state."""
    last, moved_in = 0, set()
    while True:
        batch = list(targets.filter(pk__gt=last).order_by("pk").values_list("pk", "migration_id")[:BATCH])
        if not batch:
            break
        targets.model.objects.filter(pk__in=[pk for pk, _ in batch]).update(state=to_state)
        moved_in.update(migration_id for _, migration_id in batch)
        last = batch[-1][0]
    MigrationCounts = apps.get_model("runs", "MigrationCounts")
    for kept in MigrationCounts.objects.filter(migration_id__in=moved_in):
        rows = targets.model.objects.filter(migration_id=kept.migration_id).values("state").annotate(n=Count("id"))
        kept.repos_by_state = {row["state"]: row["n"] for row in rows.order_by()}
        kept.save(update_fields=["repos_by_state"])


def unverified_from_succeeded(apps, schema_editor):
    """Targets whose latest migration attempt succeeded with layer unverifiable move to the unverified state."""
    Target = apps.get_model("runs", "Target")
    _move(
        apps,
        Target.objects.filter(
            state="succeeded",
            latest_attempt__outcome="succeeded",
            latest_attempt__layer="unverifiable",
        ),
        "unverified",
    )


def succeeded_from_unverified(apps, schema_editor):
    """Back to before: unverified targets count as succeeded again."""
    Target = apps.get_model("runs", "Target")
    _move(apps, Target.objects.filter(state="unverified"), "succeeded")


class Migration(migrations.Migration):
    dependencies = [("runs", "0018_rerun_dispatch")]

    operations = [
        migrations.AlterField(
            model_name="target",
            name="state",
            field=models.CharField(
                choices=[
                    ("not_started", "not started"),
                    ("in_progress", "in progress"),
                    ("succeeded", "succeeded"),
                    ("unverified", "passed, verified nothing"),
                    ("verify_failed", "verifier failed"),
                    ("judge_rejected", "judge rejected"),
                    ("agent_error", "agent error"),
                    ("no_change", "no change"),
                ],
                default="not_started",
                max_length=20,
            ),
        ),
        migrations.RunPython(unverified_from_succeeded, succeeded_from_unverified),
    ]
