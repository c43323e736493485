from django.conf import settings
from django.db import migrations, models


def owners_from_owner(apps, schema_editor):
    """A migration's named owner becomes its first owner; migrations without one stay open to every migration owner."""
    Migration = apps.get_model("runs", "Migration")
    for migration in Migration.objects.filter(owner__isnull=False).only("id", "owner_id"):
        migration.owners.add(migration.owner_id)


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0007_heartbeats"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="migration",
            name="owners",
            field=models.ManyToManyField(
                blank=True,
                help_text="Migration owners who may rerun, edit the prompt and nudge for it. "
                "While empty, every migration owner may.",
                related_name="co_owned_migrations",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.RunPython(owners_from_owner, migrations.RunPython.noop),
    ]
