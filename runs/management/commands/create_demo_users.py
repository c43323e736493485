"""Create one demo user per role and print the logins."""

import os

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from fleetui.common.roles import ADMIN, MIGRATION_OWNER, REVIEWER, VIEWER
from runs.accounts.services import user_with_role_create

DEMO_USERS = (("viewer", VIEWER), ("reviewer", REVIEWER), ("owner", MIGRATION_OWNER), ("admin", ADMIN))
DEFAULT_PASSWORD = "fleetui-demo"


class Command(BaseCommand):
    help = "Create the users viewer, reviewer, owner and admin, one per role; existing users keep their password."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=None, help="Defaults to $FLEETUI_DEMO_PASSWORD or fleetui-demo.")

    def handle(self, *args, password: str | None, **options):
        password = password or os.environ.get("FLEETUI_DEMO_PASSWORD") or DEFAULT_PASSWORD
        User = get_user_model()
        for username, role in DEMO_USERS:
            group, _ = Group.objects.get_or_create(name=role)
            user = User.objects.filter(username=username).first()
            if user is None:
                # The demo's admin may also use Django's admin pages.
                staff = {"is_staff": True, "is_superuser": True} if role == ADMIN else {}
                user = user_with_role_create(username=username, role=role, password=password, **staff)
                note = f"password {password}"
            else:
                note = "existing user, password unchanged"
            user.groups.add(group)
            self.stdout.write(f"{username:<9} role {role:<16} {note}")
