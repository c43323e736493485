"""Lines that differ only in their digits, seen alike by patterns that cannot tell digits 1-9 apart (pure).

A fleet's logs repeat the same lines with other line numbers, counts, durations and timestamps. A
pattern that never names a digit from 1 to 9 on its own (only `\\d`, `\\w`, `[0-9a-f]`, `[1-9]`, ...)
matches a line and the same line with every such digit turned into a 1 at the same places, so what it
computes on one holds for the other. A zero stays a zero: some patterns do name it (`0x`, `0 errors`).
"""

import re
from collections.abc import Iterable
from functools import lru_cache
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]

ONES = bytes.maketrans(b"123456789", b"111111111")
ZEROS = bytes.maketrans(b"123456789", b"000000000")
_NONZERO = frozenset(range(ord("1"), ord("9") + 1))


def ones_table(keep: str = "") -> bytes:
    """The byte table that reads the digits 1-9 as ones, but those in keep (which must not hold 1)."""
    alike = "".join(d for d in "123456789" if d not in keep)
    return bytes.maketrans(alike.encode(), b"1" * len(alike))


_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT)}
_PLAIN = {_c.ANY, _c.AT, _c.CATEGORY}


def with_digits(text: str, table: bytes = ONES) -> str:
    """The text with its ASCII digits mapped by a byte table (a digit byte never occurs inside a
    multi-byte UTF-8 character, so this is str.translate, many times faster)."""
    if text.isascii():
        return text.encode("ascii").translate(table).decode("ascii")
    return text.encode("utf-8", "surrogatepass").translate(table).decode("utf-8", "surrogatepass")


def _class_blind(items: list, alike: frozenset[int]) -> bool:
    """A character set holds all of the digits read alike or none of them."""
    held: set[int] = set()
    for op, av in items:
        if op is _c.LITERAL and av in alike:
            held.add(av)
        elif op is _c.RANGE:
            held.update(alike & set(range(av[0], av[1] + 1)))
        elif op not in (_c.LITERAL, _c.RANGE, _c.NEGATE, _c.CATEGORY):
            return False
    return not held or held == alike


def _no_digit(items) -> bool:
    """A sub-pattern that can only match literal characters that are no digits (what a back reference repeats)."""
    for op, av in items:
        if op is _c.LITERAL:
            if chr(av).isdigit():
                return False
        elif op is _c.IN:
            if not all(o is _c.LITERAL and not chr(a).isdigit() for o, a in av):
                return False
        elif op is _c.SUBPATTERN:
            if not _no_digit(av[3]):
                return False
        elif op is _c.BRANCH:
            if not all(_no_digit(branch) for branch in av[1]):
                return False
        else:
            return False
    return True


def _blind(items, groups: dict[int, list], alike: frozenset[int]) -> bool:
    for op, av in items:
        if op in (_c.LITERAL, _c.NOT_LITERAL):
            if av in alike:
                return False
        elif op is _c.IN:
            if not _class_blind(av, alike):
                return False
        elif op is _c.SUBPATTERN:
            if av[0] is not None:
                groups[av[0]] = av[3]
            if not _blind(av[3], groups, alike):
                return False
        elif op is _c.BRANCH:
            if not all(_blind(branch, groups, alike) for branch in av[1]):
                return False
        elif op in _REPEATS:
            if not _blind(av[2], groups, alike):
                return False
        elif op in (_c.ASSERT, _c.ASSERT_NOT):
            if not _blind(av[1], groups, alike):
                return False
        elif op is getattr(_c, "ATOMIC_GROUP", None):
            if not _blind(av, groups, alike):
                return False
        elif op is _c.GROUPREF:
            if av not in groups or not _no_digit(groups[av]):
                return False
        elif op not in _PLAIN:
            return False
    return True


def digit_blind(patterns: Iterable[re.Pattern[str]], keep: str = "") -> bool:
    """True when no pattern can tell the digits 1-9 apart (but those in keep): each matches a line where it
    matches that line with those digits turned into ones (`ones_table(keep)`), at the same places."""
    alike = _NONZERO - {ord(d) for d in keep}
    for pattern in patterns:
        try:
            tree = _parser.parse(pattern.pattern, pattern.flags)
        except Exception:  # noqa: BLE001 - an unreadable pattern is simply not known to be blind
            return False
        if not _blind(list(tree), {}, alike):
            return False
    return True


class Untracked(Exception):
    """A replacement would bring a one of its own: the ones of the result no longer all come from the line."""


def sub(pattern: re.Pattern[str], repl, line: str, ones: list[int] | None) -> tuple[str, list[int] | None]:
    """`pattern.sub(repl, line)`, and which of the line's ones are still in the result.

    ones numbers the ones of the line in order (None: only substitute). Replacements must hold no one.
    """
    if ones is None:
        return pattern.sub(repl, line), None
    if not ones:
        # The line holds no one (the ones number them all): only a replacement could bring one.
        out = pattern.sub(repl, line)
        if "1" in out:
            raise Untracked
        return out, ones
    template = isinstance(repl, str) and "\\" in repl
    pieces: list[str] = []
    kept: list[int] = []
    pos = seen = 0
    for m in pattern.finditer(line):
        start, end = m.span()
        if start > pos:
            n = line.count("1", pos, start)
            if n:
                kept.extend(ones[seen : seen + n])
                seen += n
            pieces.append(line[pos:start])
        seen += line.count("1", start, end)
        text = repl(m) if callable(repl) else (m.expand(repl) if template else repl)
        if "1" in text:
            raise Untracked
        pieces.append(text)
        pos = end
    if not pieces:
        return line, ones
    kept.extend(ones[seen:])
    pieces.append(line[pos:])
    return "".join(pieces), kept


_NONZERO_RE = re.compile(r"[1-9]")


def refill(masked: str, kept: tuple[int, ...], line: str) -> str:
    """The masked form of a line computed on its digits-as-ones twin, with the line's own digits put back."""
    if not kept:
        return masked
    digits = _NONZERO_RE.findall(line)
    parts = masked.split("1")
    out = [parts[0]]
    for k, part in zip(kept, parts[1:], strict=True):
        out.append(digits[k])
        out.append(part)
    return "".join(out)


def digit_keyed(maxsize: int, keep: str = ""):
    """Cache a function of a line (and further hashable arguments) by the line, and compute it once for all
    lines that differ only in their digits 1-9 (but those in keep). Only for functions whose patterns are
    `digit_blind` with the same keep."""
    table = ones_table(keep)

    def wrap(fn):
        by_ones = lru_cache(maxsize=maxsize)(fn)

        @lru_cache(maxsize=maxsize)
        def cached(line: str, *args):
            return by_ones(with_digits(line, table), *args)

        cached.__doc__ = fn.__doc__
        return cached

    return wrap
