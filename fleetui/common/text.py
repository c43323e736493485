"""Makes untrusted text storable (valid UTF-8, no NUL bytes, a bounded size) and reads timestamps out of it."""

import re
from datetime import datetime

# PostgreSQL text cannot hold NUL; other C0 controls (except tab, newline, carriage
# return and ESC, which ANSI colour codes need) only confuse terminals and browsers.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(value: str | bytes | None) -> str:
    """Decodes bytes as UTF-8 with replacement and drops characters a database rejects."""
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", "replace")
    elif not isinstance(value, str):
        value = str(value)
    if value.isascii():
        return _CONTROL.sub("\ufffd", value) if _has_control(value) else value
    value = _SURROGATE.sub("\ufffd", value)
    return _CONTROL.sub("\ufffd", value)


def _has_control(value: str) -> bool:
    return _CONTROL.search(value) is not None


def cap_text(value: str, cap: int) -> tuple[str, bool]:
    """Keeps the head and the tail of `value` within `cap` characters; says if it cut."""
    if len(value) <= cap:
        return value, False
    marker = f"\n[... {len(value) - cap:,} characters omitted by fleetui ...]\n"
    # The tail usually holds the error summary; give it the larger share.
    head = max(0, cap // 3)
    tail = max(0, cap - head - len(marker))
    head_text = value[:head]
    cut = head_text.rfind("\n")
    if cut > head // 2:
        head_text = head_text[: cut + 1]
    tail_text = value[len(value) - tail :] if tail else ""
    cut = tail_text.find("\n")
    if 0 <= cut < tail // 2:
        tail_text = tail_text[cut + 1 :]
    return head_text + marker + tail_text, True


def parse_time(value: str | None) -> datetime | None:
    """A datetime from an ISO 8601 timestamp in a vendor payload, or None when it is missing or malformed."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
