"""Users with a role, and API tokens: only a token's hash is stored."""

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from runs.accounts.models import ApiToken


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_token_key() -> str:
    return "fui_" + secrets.token_urlsafe(32)


def api_token_create(*, user, name: str = "") -> str:
    """Create a token for the user and return its clear key, which is not kept."""
    key = new_token_key()
    ApiToken.objects.create(user=user, name=name, prefix=key[:8], key_hash=token_hash(key))
    return key


def user_with_role_create(*, username: str, role: str | None, password: str, **fields):
    """A new user in one role group."""
    user = get_user_model().objects.create_user(username=username, password=password, **fields)
    if role:
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.add(group)
    return user
