"""Create a bearer token for the JSON API and print it once; only its hash is kept."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from runs.accounts.models import ApiToken
from runs.accounts.services import TOKEN_DEFAULT_DAYS, TOKEN_MAX_DAYS, api_token_create, token_hash


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it cannot be shown again)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label to tell tokens apart, e.g. 'ci'.")
        parser.add_argument(
            "--scope",
            choices=ApiToken.Scope.values,
            default=ApiToken.Scope.READ_ONLY,
            help="read-only (default) answers GET only; read-write may also start imports, reruns and nudges.",
        )
        parser.add_argument(
            "--expires-days",
            type=int,
            default=TOKEN_DEFAULT_DAYS,
            help=f"Days until the token stops working (default {TOKEN_DEFAULT_DAYS}, at most {TOKEN_MAX_DAYS}).",
        )

    def handle(self, *args, username: str, name: str, scope: str, expires_days: int, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        if not user.is_active:
            raise CommandError(f"user {username!r} is inactive")
        if not 1 <= expires_days <= TOKEN_MAX_DAYS:
            raise CommandError(f"--expires-days must be between 1 and {TOKEN_MAX_DAYS}, got {expires_days}")
        key = api_token_create(
            user=user,
            name=name,
            scope=scope,
            expires_in_days=expires_days,
            audit=True,
            via="manage.py create_api_token",
        )
        token = ApiToken.objects.get(key_hash=token_hash(key))
        self.stderr.write(
            f"{token.get_scope_display()} token for {username} created, expires {token.expires_at:%Y-%m-%d %H:%M} UTC; "
            "store it now, it is not shown again:"
        )
        self.stdout.write(key)
