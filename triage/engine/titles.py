"""The title of a group of failures: the text their deciding lines share, where they differ an ellipsis (pure).

Members of one cause print one line with their own versions, numbers, hosts or names in it
("Dependency convergence error for com.google.guava:guava:jar:2.7.16 ..."). The title keeps what every
member says and shows "…" where they say different things, so it never claims one member's version for all.
"""

import re
from collections import Counter
from collections.abc import Iterable
from difflib import SequenceMatcher

GAP = "…"
# Distinct lines compared: the most frequent; the rest rarely add a difference the first ones miss.
MAX_LINES = 24
# A shared text that keeps less than this share of the most common line says too little: not used.
MIN_SHARED = 0.5
_TOKEN = re.compile(r"\w+|[^\w\s]|\s+")
_SPACES = re.compile(r"\s+")
# Gaps joined by a dot, dash or underscore ("104.16.….…") are one gap.
_GAPS = re.compile(r"…(?:[.\-_]?…)+")
_SENTINEL = "\x00"
_GAPPY_WORD = re.compile(r"(?<!\S)([(\[{'\"]*)[^\s…]*…[^\s…]*…[^\s]*?([)\]}'\",.:;]*)(?!\S)")
_LEADING_GAP = re.compile(r"^…[\s:,.;-]*")
# Gaps one after another, only spaces or a possessive between them ("in …'s … …"), are one gap: each member says
# something of its own there, and a row of ellipses reads as nothing.
_GAP_RUN = re.compile(r"…(?:'s)?(?:\s+…(?:'s)?)+")
# For a failure with no deciding line: the line of its snippet whose words weigh most in its cluster.
_WORD = re.compile(r"(?u)(?<![<\w])[A-Za-z_][\w.$-]*\w|\b[A-Z]+\d+\b")
_GENERIC_LINE = re.compile(
    r"\bBUILD FAILURE\b|\bBUILD FAILED\b|FAILURE: Build failed|COMPILATION ERROR|Compilation failure\W*$|^\W*\[ERROR\]\W*$"
    r"|Tests run:|There (?:are|were) test failures|-> \[Help|Finished: FAILURE|marked build as failure"
    r"|exit code|Process completed|^\W*\[(?:ERROR|INFO)\] Errors?:\s*$|^\W*\[ERROR\] Failures:\s*$"
    r"|npm ERR! (?:code|errno)|Command failed|^FAIL\b|could not compile"
    r"|For more information about (?:this|an) error|A complete log of this run|Run with --(?:stacktrace|info|debug|scan)"
    r"|Get more help at|short test summary info|^=+ FAILURES =+$",
    re.I,
)
_CAUSE_WORDS = re.compile(
    r"cannot find|does not exist|not found|undefined|mismatch|incompatible|expected|requires|differ|conflict"
    r"|could not resolve|unresolved|Exception|Error\b|error\[|error TS|error CS|violat|assert|panic|denied|no such",
    re.I,
)
MAX_TITLE = 200
# What a line says is in its start: longer lines are scored by it.
SCORED_CHARS = 300


def _tokens(line: str) -> list[str]:
    return _TOKEN.findall(_SPACES.sub(" ", line).strip())


def _merge(template: list[str], other: list[str]) -> list[str]:
    """The template with every stretch the other line does not share replaced by one gap."""
    if len(template) == len(other):
        same = sum(1 for a, b in zip(template, other, strict=True) if a == b)
        if same * 2 >= len(template):
            return [a if a == b else _SENTINEL for a, b in zip(template, other, strict=True)]
    out: list[str] = []
    matcher = SequenceMatcher(None, template, other, autojunk=False)
    for op, i1, i2, _, _ in matcher.get_opcodes():
        if op == "equal":
            out.extend(template[i1:i2])
        elif not out or out[-1] != _SENTINEL:
            out.append(_SENTINEL)
    return out


def _numeric(token: str) -> bool:
    return token.isdigit() or token == "."


def _render(tokens: list[str]) -> str:
    """The text with gaps; a gap inside a number ("2.…", "104.16.…") takes the whole number."""
    out: list[str] = []
    k = 0
    while k < len(tokens):
        token = tokens[k]
        if token != _SENTINEL:
            out.append(token)
            k += 1
            continue
        j = len(out)
        while j > 0 and _numeric(out[j - 1]):
            j -= 1
        if j < len(out) and (j == 0 or not out[j - 1][-1:].isalnum()):
            del out[j:]
        k += 1
        end = k
        while end < len(tokens) and _numeric(tokens[end]):
            end += 1
        if end > k and (end == len(tokens) or not tokens[end][:1].isalnum()):
            k = end
        out.append(_SENTINEL)
    text = _GAPS.sub(GAP, "".join(GAP if t == _SENTINEL else t for t in out))
    # A name the members spell differently in several places ("org.…:…-api:jar:…") is one gap.
    text = _GAPPY_WORD.sub(lambda m: f"{m.group(1)}{GAP}{m.group(2)}", text)
    return _GAP_RUN.sub(GAP, text).strip()


def shared_line(lines: Iterable[str]) -> str:
    """What all the lines say, with "…" where they differ; "" when they share too little to be one line."""
    counts: Counter[str] = Counter()
    for line, n in Counter(lines).items():
        if line and not line.isspace():
            counts[_SPACES.sub(" ", line).strip()] += n
    if not counts:
        return ""
    ranked = sorted(counts, key=lambda line: (-counts[line], line))
    first = ranked[0]
    if len(ranked) == 1:
        return first
    template = _tokens(first)
    for other in ranked[1:MAX_LINES]:
        template = _merge(template, _tokens(other))
    # What differs in front (one member's exception class, another's shortened name) is left out.
    text = _LEADING_GAP.sub("", _render(template))
    if len(text.replace(GAP, "").strip()) < MIN_SHARED * len(first):
        return ""
    return text


def group_title(groups: list[list[str]]) -> str:
    """The title of a cluster from its members' titles, grouped by cause, the largest group first.

    The text all members share; when they share too little, the text the largest group shares; when even
    that is too little, the largest group's most common title.
    """
    groups = [g for g in groups if any(t for t in g)]
    if not groups:
        return ""
    everyone = shared_line(t for g in groups for t in g)
    if everyone:
        return fit_title(everyone)
    largest = shared_line(groups[0])
    if largest:
        return fit_title(largest)
    counts = Counter(t for t in groups[0] if t)
    return fit_title(min(counts, key=lambda t: (-counts[t], t)))


def best_line(lines: list[str], weights: dict[str, float]) -> str:
    """The line whose words weigh most (cause words count, generic wrapper lines do not), the first of equals."""
    best, best_score = "", float("-inf")
    for i, line in enumerate(lines):
        score = sum(weights.get(w, 0.0) for w in set(_WORD.findall(line))) - 0.01 * i
        if score + 2.0 <= best_score:
            continue  # even with cause words it cannot win: the patterns are not worth running
        head = line[:SCORED_CHARS]
        score += 2.0 if _CAUSE_WORDS.search(head) else 0.0
        score -= 5.0 if _GENERIC_LINE.search(head) else 0.0
        if score > best_score:
            best, best_score = line, score
    return best


def fit_title(title: str) -> str:
    """A title within MAX_TITLE; a long chain of causes ("A: B: C") keeps its first and its last clauses."""
    if len(title) <= MAX_TITLE:
        return title
    clauses = title.split(": ")
    last = clauses[-1]
    if len(clauses) < 2 or len(last) > MAX_TITLE * 3 // 5:
        return _cut(title, MAX_TITLE)
    # The last clause is the root cause; the first says what failed; the ones before the last fill what is left.
    room = MAX_TITLE - len(last) - 5
    head = clauses[0] if len(clauses[0]) <= room else _cut(clauses[0], room)
    tail, taken = last, 1
    for clause in reversed(clauses[1:-1]):
        if len(head) + len(clause) + len(tail) + 7 > MAX_TITLE:
            break
        tail, taken = f"{clause}: {tail}", taken + 1
    return f"{head}: {tail}" if taken == len(clauses) - 1 else f"{head}: …: {tail}"


def _cut(text: str, size: int) -> str:
    """The text within size characters, cut after a word and marked as cut."""
    cut = text[: size - 1]
    space = cut.rfind(" ")
    if space > size // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"
