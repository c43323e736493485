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


# -- a search over alternatives, each run only where its literal text is -------------------------------------------


def _needles(items, ignore_case: bool) -> frozenset[str] | None:
    """Texts one of which every match of the sequence `items` holds (lower-cased when ignoring case); None if none.

    Of the candidates (a run of literals, or a group of alternatives each with its own needles), the one whose
    shortest needle is longest is chosen: it lets the fewest texts through.
    """
    candidates: list[frozenset[str]] = []
    current: list[str] = []

    def close() -> None:
        if current:
            run = "".join(current)
            candidates.append(frozenset({run.lower() if ignore_case else run}))
            current.clear()

    for op, av in items:
        if op is _c.LITERAL:
            current.append(chr(av))
            continue
        close()
        if op is _c.SUBPATTERN:
            inner = _needles(av[3], ignore_case or bool(av[1] & re.IGNORECASE))
        elif op is _c.BRANCH:
            alternatives = [_needles(branch, ignore_case) for branch in av[1]]
            inner = None if any(a is None for a in alternatives) else frozenset().union(*alternatives)
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT) and av[0] >= 1:
            inner = _needles(av[2], ignore_case)
        else:
            inner = None
        if inner:
            candidates.append(inner)
    close()
    if not candidates:
        return None
    return max(candidates, key=lambda needles: min(len(n) for n in needles))


def _top_level_branches(source: str) -> list[str]:
    """The pattern's source cut at each `|` outside groups and character classes."""
    parts, start, depth, i, in_class = [], 0, 0, 0, False
    while i < len(source):
        char = source[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if source[i + 1 : i + 2] == "^":
                i += 1
            if source[i + 1 : i + 2] == "]":  # a leading "]" is a member, not the end
                i += 1
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(source[start:i])
            start = i + 1
        i += 1
    parts.append(source[start:])
    return parts


class AnyOf:
    """Whether a pattern of many alternatives matches, searching each alternative only where its literal text is.

    Python's `re` tries every alternative at every position of the text: a pattern of twenty alternatives over a
    20 KB build log took 17 ms. Here each top-level alternative is compiled on its own with the pattern's flags,
    with the texts one of which each of its matches must hold (`_needles`); it is searched only when the text
    (case-folded for a case-blind pattern) holds one. An alternative offering no literal text is always searched.
    The answer is always the pattern's own: `bool(pattern.search(text))`.
    """

    def __init__(self, pattern: re.Pattern[str]):
        self._ignore_case = ignore_case = bool(pattern.flags & re.IGNORECASE)
        flags = pattern.flags
        self._branches: list[tuple[frozenset[str] | None, re.Pattern[str]]] = []
        for source in _top_level_branches(pattern.pattern):
            branch = re.compile(source, flags)
            try:
                needles = _needles(list(_parser.parse(source, flags)), ignore_case)
            except Exception:  # noqa: BLE001 - an alternative that cannot be read is always searched
                needles = None
            self._branches.append((needles, branch))

    def search(self, text: str) -> bool:
        folded = text.casefold() if self._ignore_case else text
        for needles, branch in self._branches:
            if needles is not None and not any(needle in folded for needle in needles):
                continue
            if branch.search(text):
                return True
        return False
