"""Create a bearer token for the JSON API and print it once; only its hash is kept."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from runs.accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it cannot be shown again)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label to tell tokens apart, e.g. 'ci'.")

    def handle(self, *args, username: str, name: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        if not user.is_active:
            raise CommandError(f"user {username!r} is inactive")
        key = api_token_create(user=user, name=name)
        self.stderr.write(f"Token for {username} created; store it now, it is not shown again:")
        self.stdout.write(key)
