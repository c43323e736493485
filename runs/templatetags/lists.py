"""Template helpers of the list pages: short relative times and inline SVG sparklines."""

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def ago(value: datetime | None, now: datetime | None = None) -> str:
    """A time as a short age that fits a one-line row: `just now`, `12m`, `5h`, `3d`, `6w`, `2y`."""
    if not value:
        return ""
    seconds = max(0, int(((now or timezone.now()) - value).total_seconds()))
    for unit, size in (("y", 365 * 86400), ("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit in ("y", "w") else 1):
            return f"{seconds // size}{unit} ago"
    return "just now"


@register.inclusion_tag("_sparkline.html")
def sparkline(spark):
    """`{% sparkline cluster.trend %}`: the bars of a `fleetui.common.sparklines.Sparkline`."""
    return {"spark": spark}


@register.filter
def cut_owner(full_name: str) -> str:
    """`acme/api` -> `acme` ("" without an owner)."""
    owner, _, name = str(full_name).rpartition("/")
    return owner


@register.filter
def short_name(full_name: str) -> str:
    """`acme/api` -> `api`."""
    return str(full_name).rpartition("/")[2]
