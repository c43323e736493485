"""Whether a pull request's attempt succeeded as a migration, kept on the pull request, and the review queue's
partial index on it: the queue's count reads that index alone instead of joining every passing attempt."""

from django.db import migrations, models
from django.db.models import Exists, OuterRef


def ready_fill(apps, schema_editor):
    PullRequest = apps.get_model("runs", "PullRequest")
    Attempt = apps.get_model("runs", "Attempt")
    passed = Attempt.objects.filter(pk=OuterRef("attempt_id"), outcome="succeeded", phase="migration")
    PullRequest.objects.update(attempt_ready=Exists(passed))


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0021_review_queue_count"),
    ]

    operations = [
        migrations.AddField(
            model_name="pullrequest",
            name="attempt_ready",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(ready_fill, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="pullrequest", name="pr_awaiting_review"),
        migrations.AddIndex(
            model_name="pullrequest",
            index=models.Index(
                condition=models.Q(
                    ("attempt_ready", True),
                    ("state__in", ["open", "unknown"]),
                    models.Q(("draft", True), ("draft__isnull", True), _connector="OR"),
                ),
                fields=["attempt", "id"],
                name="pr_ready_for_review",
            ),
        ),
    ]
