"""Per-team inbox settings, digest, stale threshold and escalation channel."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DELIVERY = [("sending", "sending"), ("sent", "sent"), ("skipped", "nothing to say"), ("failed", "failed")]


def _id():
    return ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"))


def _user():
    return models.ForeignKey(
        blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL
    )


def _channel():
    return models.ForeignKey(
        blank=True,
        null=True,
        on_delete=django.db.models.deletion.SET_NULL,
        related_name="+",
        to="notifications.slackchannel",
    )


def _delivery_fields():
    return [
        ("status", models.CharField(choices=DELIVERY, default="sending", max_length=20)),
        ("text", models.TextField(blank=True)),
        ("slack_ts", models.CharField(blank=True, max_length=40)),
        ("delivery_started_at", models.DateTimeField(blank=True, null=True)),
        ("sent_at", models.DateTimeField(blank=True, null=True)),
        ("error", models.TextField(blank=True)),
        ("created_at", models.DateTimeField(auto_now_add=True)),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_delivery_liveness"),
        ("runs", "0004_pull_request_sync_and_review_gate"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TeamInboxSettings",
            fields=[
                _id(),
                (
                    "digest_enabled",
                    models.BooleanField(default=False, help_text="Send the team one digest a day across migrations."),
                ),
                (
                    "stale_days",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        help_text="Days without activity before a pull request is stale; blank: the default.",
                        null=True,
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("escalation_channel", _channel()),
                (
                    "team",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE, related_name="inbox_settings", to="runs.team"
                    ),
                ),
                ("updated_by", _user()),
            ],
            options={"verbose_name_plural": "team inbox settings"},
        ),
        migrations.CreateModel(
            name="TeamDigest",
            fields=[
                _id(),
                ("day", models.DateField()),
                (
                    "lines",
                    models.JSONField(
                        blank=True, default=list, help_text="The pull requests as the message listed them."
                    ),
                ),
                ("permalink", models.URLField(blank=True, max_length=500)),
                ("followups", models.PositiveIntegerField(default=0, help_text="Follow-ups claimed in its thread.")),
                *_delivery_fields(),
                ("channel", _channel()),
                ("requested_by", _user()),
                (
                    "team",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="digests", to="runs.team"
                    ),
                ),
            ],
            options={
                "ordering": ["-day", "team"],
                "constraints": [models.UniqueConstraint(fields=("team", "day"), name="unique_team_digest_day")],
            },
        ),
        migrations.CreateModel(
            name="TeamDigestFollowUp",
            fields=[
                _id(),
                ("number", models.PositiveIntegerField()),
                ("lines", models.JSONField(blank=True, default=list)),
                ("changes", models.JSONField(blank=True, default=list)),
                *_delivery_fields(),
                (
                    "digest",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="followup_messages",
                        to="notifications.teamdigest",
                    ),
                ),
            ],
            options={
                "ordering": ["digest", "number"],
                "constraints": [models.UniqueConstraint(fields=("digest", "number"), name="unique_digest_followup")],
            },
        ),
        migrations.CreateModel(
            name="TeamEscalation",
            fields=[
                _id(),
                *_delivery_fields(),
                ("channel", _channel()),
                ("requested_by", _user()),
                (
                    "team",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="escalations", to="runs.team"
                    ),
                ),
            ],
            options={"ordering": ["-created_at", "-id"]},
        ),
        migrations.CreateModel(
            name="EscalatedPullRequest",
            fields=[
                _id(),
                (
                    "stale_since",
                    models.DateTimeField(help_text="Its last activity: new activity starts a new stale period."),
                ),
                (
                    "escalation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="items",
                        to="notifications.teamescalation",
                    ),
                ),
                (
                    "pull_request",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="runs.pullrequest"
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("pull_request", "stale_since"), name="unique_escalation_per_stale_period"
                    )
                ]
            },
        ),
    ]
