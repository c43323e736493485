"""The longest piece of literal text every match of a pattern holds: a cheap test before running it (pure)."""

import re
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]


def _runs(items, runs: list[str], current: list[str]) -> None:
    for op, av in items:
        if op is _c.LITERAL:
            current.append(chr(av))
            continue
        if op is _c.SUBPATTERN and not (av[1] & re.IGNORECASE):
            # A group is matched whole, in place: its literal text joins what stands around it.
            _runs(av[3], runs, current)
            continue
        runs.append("".join(current))
        current.clear()


def required_text(pattern: re.Pattern[str]) -> str:
    """A substring of every string the pattern matches ("" when it has none to offer)."""
    if pattern.flags & re.IGNORECASE:
        return ""
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001 - an unreadable pattern offers nothing
        return ""
    runs: list[str] = []
    current: list[str] = []
    _runs(list(tree), runs, current)
    runs.append("".join(current))
    return max(runs, key=len)
