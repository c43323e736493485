"""The emoji shortcodes nudges use, and common ones owners type, as the characters Slack shows for them.

A shortcode not listed here stays as text in the preview (Slack shows custom emoji we cannot know).
"""

import re

EMOJI = {
    # The ones nudges write.
    "wave": "👋",
    "white_check_mark": "✅",
    "x": "❌",
    "warning": "⚠️",
    "hourglass_flowing_sand": "⏳",
    "hourglass": "⌛",
    # Common in owners' edits.
    "heavy_check_mark": "✔️",
    "ballot_box_with_check": "☑️",
    "no_entry": "⛔",
    "no_entry_sign": "🚫",
    "exclamation": "❗",
    "question": "❓",
    "red_circle": "🔴",
    "large_green_circle": "🟢",
    "large_yellow_circle": "🟡",
    "large_blue_circle": "🔵",
    "construction": "🚧",
    "rotating_light": "🚨",
    "fire": "🔥",
    "bug": "🐛",
    "rocket": "🚀",
    "tada": "🎉",
    "sparkles": "✨",
    "eyes": "👀",
    "pray": "🙏",
    "raised_hands": "🙌",
    "clap": "👏",
    "thumbsup": "👍",
    "+1": "👍",
    "thumbsdown": "👎",
    "-1": "👎",
    "point_right": "👉",
    "point_down": "👇",
    "memo": "📝",
    "link": "🔗",
    "calendar": "📅",
    "date": "📅",
    "alarm_clock": "⏰",
    "clock3": "🕒",
    "bulb": "💡",
    "mag": "🔍",
    "lock": "🔒",
    "wrench": "🔧",
    "hammer_and_wrench": "🛠️",
    "package": "📦",
    "bell": "🔔",
    "speech_balloon": "💬",
    "thinking_face": "🤔",
    "smile": "😄",
    "slightly_smiling_face": "🙂",
    "sweat_smile": "😅",
    "heart": "❤️",
    "100": "💯",
    "arrow_right": "➡️",
    "heavy_plus_sign": "➕",
    "heavy_minus_sign": "➖",
}

SHORTCODE = re.compile(r":([a-z0-9_+\-]{1,40}):")


def emoji_replace(text: str) -> str:
    """Known shortcodes become their emoji; unknown ones stay as written."""
    return SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def emoji_html(escaped: str) -> str:
    """In already escaped HTML, known shortcodes become their emoji, titled with the shortcode."""

    def one(match: re.Match) -> str:
        emoji = EMOJI.get(match.group(1))
        if emoji is None:
            return match.group(0)
        return f'<span class="emoji" role="img" aria-label="{match.group(1)}" title="{match.group(0)}">{emoji}</span>'

    return SHORTCODE.sub(one, escaped)
