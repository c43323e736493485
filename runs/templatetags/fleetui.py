"""Template helpers: role checks, durations, routes that may not exist yet, sort links."""

from django import template

from fleetui.common.roles import user_has_role

register = template.Library()


@register.filter
def has_role(user, roles: str) -> bool:
    """`{% if user|has_role:"migration owner,admin" %}`: true when the user holds one of the roles."""
    return user_has_role(user, *[r.strip() for r in roles.split(",") if r.strip()])


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
