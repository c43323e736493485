"""The review queue's pull requests (open or not read yet, still drafts) by attempt, for its count."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0020_review_queue_order"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="pullrequest",
            index=models.Index(
                condition=models.Q(
                    ("state__in", ["open", "unknown"]),
                    models.Q(("draft", True), ("draft__isnull", True), _connector="OR"),
                ),
                fields=["attempt", "id"],
                name="pr_awaiting_review",
            ),
        ),
    ]
