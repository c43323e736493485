"""Who may act on a migration: rerun it, edit its prompt, nudge for it, and change its owners.

The rule, in one place: admins (and superusers) may act on every migration; a user holding the
`migration owner` role may act on a migration they own, and on a migration nobody owns yet (so
migrations that arrive from traces, and those from before owners existed, keep working until
someone sets their owners). Everyone else reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from fleetui.common.roles import ADMIN, MIGRATION_OWNER, forbidden_response, user_has_role, user_roles
from runs.fleet.audit import audit_event_record
from runs.fleet.models import Migration


class OwnershipError(ValueError):
    """An owners change that cannot be done as asked (the message says why)."""


def migration_owner_ids(*, migration: Migration) -> frozenset[int]:
    """The ids of the migration's owners, cached on the migration object for the request."""
    cached = getattr(migration, "_fleetui_owner_ids", None)
    if cached is None:
        cached = frozenset(migration.owners.values_list("id", flat=True))
        migration._fleetui_owner_ids = cached
    return cached


def migration_owner_list(*, migration: Migration) -> list[Any]:
    """The migration's owners, by username."""
    return list(migration.owners.order_by("username"))


def owner_candidate_list(*, migration: Migration, limit: int = 200) -> list[Any]:
    """Active users who could become owners (migration owners and admins), not owners already."""
    roles = [MIGRATION_OWNER, ADMIN]
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__name__in=roles) | Q(is_superuser=True))
        .exclude(pk__in=migration.owners.values("pk"))
        .distinct()
        .order_by("username")
    )
    return list(users[:limit])


def is_admin(user) -> bool:
    """Active superusers and holders of the admin role."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or ADMIN in user_roles(user)


def can_act_on_migration(user, migration: Migration) -> bool:
    """True when the user may rerun, edit the prompt of, nudge for and change the owners of this migration."""
    if not user_has_role(user, MIGRATION_OWNER):
        return False
    if is_admin(user):
        return True
    owners = migration_owner_ids(migration=migration)
    return not owners or user.pk in owners


def migration_forbidden_response(request, migration: Migration):
    """The 403 for a user who may not act on this migration: JSON under /api/, the forbidden page elsewhere."""
    reason = (
        f"this needs an owner of the migration {migration.slug} or an admin"
        if user_has_role(request.user, MIGRATION_OWNER)
        else None
    )
    return forbidden_response(request, (MIGRATION_OWNER,), reason=reason)


def migration_act_or_403(request, migration: Migration):
    """None when the request's user may act on the migration, else the 403 answer to return."""
    if can_act_on_migration(request.user, migration):
        return None
    return migration_forbidden_response(request, migration)


def owner_candidate_check(user) -> None:
    """Raise OwnershipError unless the user could act as an owner (active, with the migration owner role)."""
    if user is None or not user.is_active:
        raise OwnershipError("only active users can be owners")
    if not user_has_role(user, MIGRATION_OWNER):
        raise OwnershipError(f"{user.get_username()} does not hold the migration owner role; an admin grants it first")


def migration_owners_change(
    *, migration: Migration, actor, add: Iterable[Any] = (), remove: Iterable[Any] = (), keep_one: bool = True
) -> tuple[list[str], list[str]]:
    """Add and remove owners, writing one audit event; returns the usernames added and removed.

    With `keep_one`, removing every owner is refused: an unowned migration is open to every migration owner.
    """
    add, remove = list(add), list(remove)
    for user in add:
        owner_candidate_check(user)
    with transaction.atomic():
        locked = Migration.objects.select_for_update().get(pk=migration.pk)
        before = set(locked.owners.values_list("id", flat=True))
        after = (before | {u.pk for u in add}) - {u.pk for u in remove}
        if keep_one and before and not after:
            raise OwnershipError("a migration keeps at least one owner; add another owner before removing the last")
        added = [u for u in add if u.pk not in before and u.pk in after]
        removed = [u for u in remove if u.pk in before]
        locked.owners.add(*added)
        locked.owners.remove(*removed)
        migration_owners_audit(migration=locked, actor=actor, before=before, after=after)
    migration.__dict__.pop("_fleetui_owner_ids", None)
    return sorted(u.get_username() for u in added), sorted(u.get_username() for u in removed)


def migration_owners_audit(*, migration: Migration, actor, before: set[int], after: set[int]) -> None:
    """One `migration.owners_changed` event naming who was added and removed (nothing when nothing changed)."""
    if before == after:
        return
    names = dict(get_user_model().objects.filter(pk__in=before | after).values_list("id", "username"))
    audit_event_record(
        actor=actor,
        verb="migration.owners_changed",
        target=migration,
        migration=migration,
        data={
            "added": sorted(names.get(pk, str(pk)) for pk in after - before),
            "removed": sorted(names.get(pk, str(pk)) for pk in before - after),
            "owners": sorted(names.get(pk, str(pk)) for pk in after),
        },
    )


def migrations_claim_unowned(*, user, migration_ids: Iterable[int]) -> list[Migration]:
    """The user who brought new migrations in (an import they started) becomes their owner, if none has one yet."""
    if not user_has_role(user, MIGRATION_OWNER):
        return []
    claimed = []
    for migration in Migration.objects.filter(pk__in=list(migration_ids), owners__isnull=True):
        migration.owners.add(user)
        migration_owners_audit(migration=migration, actor=user, before=set(), after={user.pk})
        claimed.append(migration)
    return claimed
