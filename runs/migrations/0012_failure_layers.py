"""Failure layers on attempts and targets."""

from django.db import migrations, models

from runs.fleet.layers import attempt_layer

BATCH = 500


def layers_backfill(apps, schema_editor):
    """Gives every existing attempt its layer, a batch of attempts at a time."""
    Attempt = apps.get_model("runs", "Attempt")
    Target = apps.get_model("runs", "Target")
    VerifierResult = apps.get_model("runs", "VerifierResult")
    failed_baselines = set(
        Target.objects.filter(pre_existing_failure=True).values_list("migration_id", "repository_id")
    )
    last_id = 0
    while True:
        batch = list(Attempt.objects.filter(pk__gt=last_id).order_by("pk")[:BATCH])
        if not batch:
            return
        last_id = batch[-1].pk
        calls: dict[int, list] = {attempt.pk: [] for attempt in batch}
        for call in VerifierResult.objects.filter(attempt_id__in=calls).order_by("attempt_id", "position"):
            calls[call.attempt_id].append(call)
        for attempt in batch:
            attempt.layer = attempt_layer(
                outcome=attempt.outcome,
                verifiers=calls[attempt.pk],
                baseline_failed=(attempt.migration_id, attempt.repository_id) in failed_baselines,
            )
        Attempt.objects.bulk_update(batch, ["layer"])


class Migration(migrations.Migration):
    dependencies = [("runs", "0011_github_etags")]

    operations = [
        migrations.AddField(
            model_name="attempt",
            name="layer",
            field=models.CharField(
                blank=True,
                choices=[
                    ("pre-existing", "pre-existing"),
                    ("infrastructure", "infrastructure"),
                    ("agent", "agent"),
                    ("unverifiable", "unverifiable"),
                    ("verified", "verified"),
                ],
                db_index=True,
                help_text="Where its failure comes from, or whether its pass verified anything; blank while running.",
                max_length=20,
            ),
        ),
        migrations.RunPython(layers_backfill, migrations.RunPython.noop),
    ]
