"""Renders Slack mrkdwn as HTML for the draft preview, as Slack shows it; every piece of text escaped first.

Bold `*x*`, italic `_x_`, strike `~x~`, inline `` `code` `` and ```` ``` ```` blocks, `> quotes`, line
breaks, http(s) links `<url|label>`, user and channel references, and the emoji shortcodes in
notifications.slack.emoji. Anything else stays text.
"""

import re

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from notifications.slack.emoji import emoji_html, emoji_replace

register = template.Library()

# In mrkdwn a literal <, > or & is sent as an entity, so a raw <...> is always a link or a mention.
_TOKEN = re.compile(r"<([^<>\n]*)>|`([^`\n]+)`")
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])")
_FENCE = re.compile(r"```(.*?)```", re.S)
# Placeholders for links and code while the rest of a line is formatted: private-use characters,
# removed from the input first so no text can forge one.
_OPEN, _CLOSE = "\ue000", "\ue001"
_SLOT = re.compile(_OPEN + r"(\d+)" + _CLOSE)


def _unentity(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _angle(inner: str) -> str:
    target, _, label = inner.partition("|")
    target, label = _unentity(target), _unentity(label)
    if re.match(r"^https?://", target):
        return format_html('<a href="{}" rel="noopener noreferrer">{}</a>', target, emoji_replace(label or target))
    if re.match(r"^@[UW][A-Z0-9]+$", target):
        return format_html('<span class="slack-mention">@{}</span>', label or target[1:])
    if re.match(r"^#C[A-Z0-9]+$", target):
        return format_html('<span class="slack-mention">#{}</span>', label or target[1:])
    # Broadcasts (<!channel>) and anything else stay visible as the plain text they are.
    return escape(f"<{target}{'|' + label if label else ''}>")


def _line(line: str) -> str:
    slots: list[str] = []

    def keep(match: re.Match) -> str:
        if match.group(2) is not None:
            slots.append(format_html('<code class="slack-code">{}</code>', _unentity(match.group(2))))
        else:
            slots.append(_angle(match.group(1)))
        return f"{_OPEN}{len(slots) - 1}{_CLOSE}"

    text = escape(_unentity(_TOKEN.sub(keep, line)))
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    text = _ITALIC.sub(r"<em>\1</em>", text)
    text = _STRIKE.sub(r"<del>\1</del>", text)
    text = emoji_html(text)
    return _SLOT.sub(lambda m: slots[int(m.group(1))], text)


def _quote_body(line: str) -> str | None:
    for mark in ("&gt;", ">"):
        if line.startswith(mark):
            rest = line[len(mark) :]
            return rest[1:] if rest.startswith(" ") else rest
    return None


def _lines(text: str) -> str:
    html, quote = [], []
    for line in text.split("\n"):
        body = _quote_body(line)
        if body is not None:
            quote.append(_line(body))
            continue
        if quote:
            html.append('<blockquote class="slack-quote">' + "<br>".join(quote) + "</blockquote>")
            quote = []
        html.append(_line(line) + "<br>")
    if quote:
        html.append('<blockquote class="slack-quote">' + "<br>".join(quote) + "</blockquote>")
    joined = "".join(html)
    return joined[: -len("<br>")] if joined.endswith("<br>") else joined


@register.filter
def slack_mrkdwn(value: str) -> SafeString:
    """`{{ text|slack_mrkdwn }}`: a mrkdwn text object as Slack shows it, safe for the page."""
    value = (value or "").replace(_OPEN, "").replace(_CLOSE, "").replace("\r\n", "\n")
    parts, last = [], 0
    for match in _FENCE.finditer(value):
        parts.append(_lines(value[last : match.start()]))
        parts.append(format_html('<pre class="slack-pre">{}</pre>', _unentity(match.group(1).strip("\n"))))
        last = match.end()
    parts.append(_lines(value[last:]))
    return mark_safe("".join(parts))  # every part above was escaped before it was joined


@register.filter
def slack_plain(value: str) -> SafeString:
    """`{{ text|slack_plain }}`: a plain_text object with emoji, as Slack shows a header."""
    return mark_safe(emoji_html(escape(value or "")))  # escaped first; the shortcode class is [a-z0-9_+-]
