"""Renders Slack mrkdwn as HTML for the draft preview: every piece of text escaped first."""

import html
import re

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# In mrkdwn a literal <, > or & is sent as an entity, so a raw <...> is always a link or a mention.
_ANGLE = re.compile(r"<([^<>]*)>")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")


def _text(mrkdwn: str) -> str:
    escaped = escape(html.unescape(mrkdwn))
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    escaped = _ITALIC.sub(r"<em>\1</em>", escaped)
    return escaped.replace("\n", "<br>")


def _angle(inner: str) -> str:
    target, _, label = inner.partition("|")
    target = html.unescape(target)
    label = html.unescape(label) if label else target
    if re.match(r"^https?://", target):
        return format_html('<a href="{}" rel="noopener noreferrer">{}</a>', target, label)
    # Mentions (<!channel>, <@U123>) and anything else stay visible as plain text.
    return escape(f"<{target}>")


@register.filter
def slack_mrkdwn(value: str) -> SafeString:
    """`{{ text|slack_mrkdwn }}`: bold, italics, line breaks and http(s) links; nothing else is markup."""
    parts, last = [], 0
    for match in _ANGLE.finditer(value or ""):
        parts.append(_text(value[last : match.start()]))
        parts.append(_angle(match.group(1)))
        last = match.end()
    parts.append(_text((value or "")[last:]))
    return mark_safe("".join(parts))  # every part above was escaped before it was joined
