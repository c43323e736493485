"""Users with a role, and API tokens: only a token's hash is stored."""

import datetime
import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from runs.accounts.models import ApiToken
from runs.fleet.audit import audit_event_record

# A token lives 90 days unless its owner asks otherwise, and never more than a year.
TOKEN_DEFAULT_DAYS = 90
TOKEN_MAX_DAYS = 365


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_token_key() -> str:
    return "fui_" + secrets.token_urlsafe(32)


def api_token_create(
    *,
    user,
    name: str = "",
    scope: str = ApiToken.Scope.READ_WRITE,
    expires_in_days: int = TOKEN_DEFAULT_DAYS,
    audit: bool = False,
    actor=None,
    via: str = "",
) -> str:
    """Create a token for the user and return its clear key, which is not kept.

    With `audit`, the audit trail records that `actor` (None: the system) created it `via`
    the tokens page or the command line.
    """
    if scope not in ApiToken.Scope.values:
        raise ValueError(f"scope must be one of {', '.join(ApiToken.Scope.values)}, got {scope!r}")
    if not 1 <= expires_in_days <= TOKEN_MAX_DAYS:
        raise ValueError(f"a token expires after 1 to {TOKEN_MAX_DAYS} days, got {expires_in_days}")
    key = new_token_key()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=key[:8],
            key_hash=token_hash(key),
            scope=scope,
            expires_at=timezone.now() + datetime.timedelta(days=expires_in_days),
        )
        if audit:
            audit_event_record(
                actor=actor,
                verb="api_token.created",
                target=token,
                data={
                    "owner": user.get_username(),
                    "name": name,
                    "scope": scope,
                    "expires_at": token.expires_at.isoformat(),
                    "via": via,
                },
            )
    return key


def api_token_revoke(*, token: ApiToken, actor) -> bool:
    """Revoke the token at once; False when it was already revoked."""
    with transaction.atomic():
        changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        if changed:
            audit_event_record(
                actor=actor,
                verb="api_token.revoked",
                target=token,
                data={"owner": token.user.get_username(), "name": token.name},
            )
    token.refresh_from_db(fields=["revoked_at"])
    return bool(changed)


def user_with_role_create(*, username: str, role: str | None, password: str, **fields):
    """A new user in one role group."""
    user = get_user_model().objects.create_user(username=username, password=password, **fields)
    if role:
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.add(group)
    return user
