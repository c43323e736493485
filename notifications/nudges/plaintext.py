"""The editor's plain text with links, and the Slack mrkdwn a nudge is sent as.

Owners edit what they read: `&`, `<` and `>` as themselves, links as `[label](https://...)` or a bare
https URL, and Slack's own formatting characters (`*bold*`, `_italic_`, `~strike~`, `` `code` ``,
`> quote`) as they would type them into Slack. On save the text becomes mrkdwn: the three characters
Slack reserves are escaped, so nothing an owner types can become a mention or a hidden link, and links
become `<url|label>`.
"""

from __future__ import annotations

import re

from notifications.nudges.messages import mrkdwn_escape, mrkdwn_link, safe_url

# [label](https://...) and bare http(s) URLs in the editor's text.
_PLAIN_LINK = re.compile(r"\[(?P<label>[^\[\]\n]+)\]\((?P<url>https?://[^\s()<>]+)\)|(?P<bare>https?://[^\s()<>\[\]]+)")
_TRAILING = ".,;:!?'\""
# <...> in mrkdwn: a link, a mention or a channel reference.
_ANGLE = re.compile(r"<([^<>\n]*)>")


def plain_to_mrkdwn(plain: str) -> str:
    """The editor's text as Slack mrkdwn: &, < and > escaped, links as <url|label> or <url>."""
    parts, last = [], 0
    for match in _PLAIN_LINK.finditer(plain or ""):
        parts.append(mrkdwn_escape(plain[last : match.start()]))
        last = match.end()
        if match.group("bare") is not None:
            url = match.group("bare")
            kept = url.rstrip(_TRAILING)
            tail = url[len(kept) :]
            href = safe_url(kept)
            parts.append(f"<{href.replace('&', '&amp;')}>" if href else mrkdwn_escape(kept))
            parts.append(mrkdwn_escape(tail))
        else:
            parts.append(mrkdwn_link(match.group("url"), match.group("label")))
    parts.append(mrkdwn_escape((plain or "")[last:]))
    return "".join(parts)


def _unescape(text: str) -> str:
    # Slack escapes exactly these three; any other entity-looking text is the owner's own.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _plain_url(url: str) -> str:
    # Parentheses would end the [label](url) form early; their percent-encoded forms are the same URL.
    return _unescape(url).replace("(", "%28").replace(")", "%29")


def mrkdwn_to_plain(mrkdwn: str) -> str:
    """Slack mrkdwn as the editor shows it: entities as characters, <url|label> as [label](url)."""
    parts, last = [], 0
    for match in _ANGLE.finditer(mrkdwn or ""):
        parts.append(_unescape(mrkdwn[last : match.start()]))
        last = match.end()
        target, bar, label = match.group(1).partition("|")
        if re.match(r"^https?://", target):
            if bar and label and _unescape(label) != _unescape(target):
                clean = _unescape(label).replace("[", "(").replace("]", ")")
                parts.append(f"[{clean}]({_plain_url(target)})")
            else:
                parts.append(_plain_url(target))
        else:
            # A mention or channel reference cannot be typed back; it stays visible and is sent as text.
            parts.append(_unescape(match.group(0)))
    parts.append(_unescape((mrkdwn or "")[last:]))
    return "".join(parts)
