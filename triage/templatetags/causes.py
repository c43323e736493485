"""Template filters for failure causes: a member's deciding line shown from where it names the cause."""

from django import template

from triage.engine.causes import cause_of
from triage.engine.titles import fit_title

register = template.Library()


@register.filter
def cause_line(deciding_line: str) -> str:
    """The deciding line without who printed it and where, a long cause chain kept by its first and last clauses."""
    if not deciding_line:
        return ""
    return fit_title(cause_of(deciding_line).title) or deciding_line
