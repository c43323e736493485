"""Template helpers: role checks, durations, routes that may not exist yet, sort links."""

from django import template

from fleetui.common.roles import user_has_role
from runs.fleet.ownership import can_act_on_migration, migration_owner_list, owner_candidate_list

register = template.Library()


@register.filter
def has_role(user, roles: str) -> bool:
    """`{% if user|has_role:"migration owner,admin" %}`: true when the user holds one of the roles."""
    return user_has_role(user, *[r.strip() for r in roles.split(",") if r.strip()])


@register.filter
def can_act_on(user, migration) -> bool:
    """`{% if user|can_act_on:migration %}`: the user may rerun, edit the prompt of and nudge for it."""
    return migration is not None and can_act_on_migration(user, migration)


@register.inclusion_tag("fleet/_owners.html", takes_context=True)
def migration_owners_card(context, migration):
    """`{% migration_owners_card migration %}`: the owners, with the co-owner form for who may change them."""
    can_manage = can_act_on_migration(context.get("user"), migration)
    return {
        "migration": migration,
        "owners": migration_owner_list(migration=migration),
        "can_manage": can_manage,
        "candidates": owner_candidate_list(migration=migration) if can_manage else [],
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def duration(ms) -> str:
    """Milliseconds as `1h 02m`, `3m 05s` or `4.2s`."""
    if ms is None or ms == "":
        return "—"
    seconds = int(ms) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


@register.simple_tag(takes_context=True)
def sort_link(context, field: str) -> str:
    """Query string that sorts by `field`, flipping the direction when it is already the sort."""
    request = context["request"]
    current = request.GET.get("order", "")
    params = request.GET.copy()
    params["order"] = field.lstrip("-") if current == field else field
    params.pop("page", None)
    return "?" + params.urlencode()
