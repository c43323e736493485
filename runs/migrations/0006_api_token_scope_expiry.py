# API tokens get a scope, an expiry and a revocation time.
#
# Tokens made before scopes existed could do everything their user may do, so they become
# read-write; they expire 90 days after this migration runs, the default for new tokens.

import datetime

from django.db import migrations, models
from django.utils import timezone


def expire_existing_tokens_in_90_days(apps, schema_editor):
    ApiToken = apps.get_model("runs", "ApiToken")
    ApiToken.objects.filter(expires_at__isnull=True).update(expires_at=timezone.now() + datetime.timedelta(days=90))


class Migration(migrations.Migration):

    dependencies = [
        ('runs', '0005_rerun_batches'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='apitoken',
            options={'ordering': ('-created_at', '-pk')},
        ),
        migrations.AddField(
            model_name='apitoken',
            name='scope',
            field=models.CharField(choices=[('read-only', 'Read-only'), ('read-write', 'Read-write')], default='read-write', max_length=10),
        ),
        migrations.AlterField(
            model_name='apitoken',
            name='scope',
            field=models.CharField(choices=[('read-only', 'Read-only'), ('read-write', 'Read-write')], default='read-only', max_length=10),
        ),
        migrations.AddField(
            model_name='apitoken',
            name='expires_at',
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(expire_existing_tokens_in_90_days, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='apitoken',
            name='expires_at',
            field=models.DateTimeField(),
        ),
        migrations.AddField(
            model_name='apitoken',
            name='revoked_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
