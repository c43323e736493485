"""Mask what varies between repositories in a failure snippet, keep what names the cause (pure)."""

import hashlib
import re
from functools import lru_cache

from triage.engine.digits import ONES, Untracked, digit_blind, refill, sub, with_digits
from triage.engine.rules import SYSTEMS

# Boilerplate a build tool prints after every failure: it would make unrelated failures look alike.
_BOILERPLATE = [s.filler for s in SYSTEMS if s.filler is not None]
# One search per line instead of one per build system (each pattern is tested on its own line, so
# joining them as alternatives matches exactly the same lines).
_BOILERPLATE_ANY = re.compile("|".join(f"(?:{p.pattern})" for p in _BOILERPLATE))
# Lines repeat across a fleet (the same compiler error in many repositories): their masked form is cached.
LINE_CACHE_SIZE = 200_000

_EXT = (
    r"java|kt|kts|scala|groovy|gradle|xml|json|ya?ml|toml|lock|properties|py|pyi|go|mod|rs|[cm]?[jt]sx?|vue|svelte"
    r"|cs|csproj|fs|vb|sln|rb|php|swift|c|cc|cpp|h|hpp|proto|sh|txt|log|jar|war|class|html|css|scss|md|bzl|bazel"
)
# Order matters: each pattern runs on the output of the ones before it.
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_TLD = r"(?:com|net|org|edu|gov|mil|io|de|fr|uk|jp|cn|ru|br|nl|au|ca|us)"
# Order matters: each pattern runs on the output of the ones before it.
_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>()\]]+", re.I), "<url>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<uuid>"),
    # MAC and IPv6 addresses, then IPv4 with an optional port: where a message came from, not what it says.
    (
        re.compile(
            r"\b(?=[\w:]*\d)(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}\b|\b[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*::(?:[0-9a-f]{1,4}:?)*",
            re.I,
        ),
        "<hex>",
    ),
    (re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(?![\w.])"), "<host>"),
    (re.compile(rf"\b(?:[\w-]+\.)+{_TLD}\b(?![\w.:-])"), "<host>"),
    (
        re.compile(r"\b\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?\b"),
        "<ts>",
    ),
    (re.compile(rf"\b(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),? )?{_MONTH} +\d{{1,2}}\b(?:,? \d{{4}}\b)?"), "<ts>"),
    (re.compile(r"\b\d\d:\d\d:\d\d(?:[.,]\d+)?\b"), "<ts>"),
    # Windows and POSIX absolute paths, home and relative paths, and bare file names with a known extension.
    (re.compile(r"\b[A-Za-z]:\\[^\s:'\"<>|*?]+"), "<path>"),
    (
        re.compile(
            r"(?:(?<=[\s'\"(=\[:])|^)(?:~|\.{1,2})?/[^\s:'\"<>()\[\],;]+"
            r"|\b(?:[\w.@+-]+/){2,}[\w.@+-]+"
            rf"|\b(?:[\w.@+-]+/)+[\w@+-]+\.(?:{_EXT})\b"
            # A relative path after "in" or "under" (`in tests/billing`, `under internal/`) is a place.
            r"|(?:(?<=\bin )|(?<=\bunder )|(?<=\binside )|(?<=\bwithin ))(?:[\w.@+-]+/)+[\w.@+-]*"
        ),
        "<path>",
    ),
    (re.compile(rf"\b[\w-]+\.(?:{_EXT})\b(?=[:(\[\s,]|$)"), "<file>"),
    (re.compile(r"\b0x[0-9a-f]+\b|\b(?=[a-f]*\d)(?=\d*[a-f])[0-9a-f]{7,}\b", re.I), "<hex>"),
    (re.compile(r"\b\d+(?:\.\d+)?[ \t]?(?:ms|s|sec|secs|seconds?|min|mins|minutes?|h|hours?)\b"), "<dur>"),
    # A value given as key=value that holds a digit or a dot (a host, an id, a size) is the instance's own.
    (re.compile(r"(?<=[A-Za-z]=)(?=[^\s,;)\]]*[\d.])[^\s,;)\]'\"]+"), "<n>"),
    # Versions: 1.2, 1.2.3-SNAPSHOT, v2.0.0-rc.1, 422.v9d1a_89cede51; a group:artifact in front keeps its name.
    (re.compile(r"(?<![\w.])v?\d+(?:\.[\w-]+)+(?![\w.])"), "<v>"),
    # Ids made of a name and a number: node-12, core.2275, rdd_2_0, storage234, root3_domain, attempt_..._1012.
    (re.compile(r"(?<=[A-Za-z]\.)\d+(?![\w.])"), "<n>"),
    (re.compile(r"(?<![\w.-])[A-Za-z]+_-\d+(?![\w.-])"), "<id>"),
    # Error codes (TS2345, E0308, CS0246) name a cause and keep their digits.
    (
        re.compile(
            r"(?<![\w.@/:-])(?![A-Z]{1,3}\d{3,5}(?![\w.@/:-]))(?=[A-Za-z_]*\d)(?=\w*(?:\d\d|_\d|\d_))[A-Za-z_]\w*(?![\w.@/:-])"
        ),
        "<id>",
    ),
    (re.compile(r"(?<![\w.])\d+(?![\w])"), "<n>"),
    # Long digit runs inside words: temp files, build numbers, generated class names.
    (re.compile(r"\d{6,}"), "<n>"),
]
# The rules up to paths run before a line is tested for the repository's names; the rest after.
_STAGE_ONE = 10
_LINE_COL = re.compile(r":\[\d+,\d+\]|:\d+:\d+(?![\w.])|\(\d+,\d+\)|:\d+(?![\w.])|, line \d+|line \d+")
# Maven and Gradle name the module being built: that is the repository, not the cause.
_PROJECT = re.compile(r"\b(on project|for project|project) [\w.:-]+")
_SPACES = re.compile(r"[ \t]+")
_MASKED_RUN = re.compile(r"(<(?:n|v|hex|path|file|host|id)>)(?:[ \t,]*\1)+")


def _repo_names(repo: str) -> list[tuple[str, str]]:
    owner, _, name = repo.strip().strip("/").rpartition("/")
    short = re.sub(r"(?i)[-_.](?:maven-plugin|plugin|api|service|lib|library)$", "", name)
    # Very short names ("a", "io") would mask ordinary words.
    # Its packages spell the name with underscores (Python, Rust) or without separators (Java).
    spellings = (name, short, name.replace("-", "_"), name.replace("-", ""))
    names = [(w, "<repo>") for w in dict.fromkeys(spellings)] + [(owner, "<owner>")]
    return [(w, mask) for w, mask in names if len(w) >= 3]


@lru_cache(maxsize=16_384)
def _repo_words(repo: str) -> tuple[str, ...]:
    """The repository's own names, lower-cased: a cheap test of whether a line can name it."""
    return tuple(w.lower() for w, _ in _repo_names(repo))


@lru_cache(maxsize=1024)
def _repo_rules(repo: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Masking rules for a repository's own names (compiled only for lines that name it)."""
    return tuple((re.compile(rf"(?<![\w]){re.escape(w)}(?![\w])", re.I), mask) for w, mask in _repo_names(repo))


# What a line must hold for each rule to have anything to mask, tested before the rule runs (most lines
# have no URL, no address, no path): (substrings of which one must occur, whether a digit must occur).
_NEEDS: list[tuple[tuple[str, ...], bool]] = [
    (("://",), False),
    (("-",), True),
    ((":",), False),
    ((".",), True),
    ((".",), False),
    (("-",), True),
    ((), True),
    ((":",), True),
    ((":\\",), False),
    (("/",), False),
    ((".",), False),
    ((), True),
    ((), True),
    (("=",), False),
    ((".",), True),
    ((".",), True),
    (("_-",), True),
    ((), True),
    ((), True),
    ((), True),
]
_GATED = [(pattern, mask, needles, digit) for (pattern, mask), (needles, digit) in zip(_RULES, _NEEDS, strict=True)]
_DIGIT = re.compile(r"\d")


def _apply(line: str, rules, ones: list[int] | None = None) -> tuple[str, list[int] | None]:
    has_digit = _DIGIT.search(line) is not None
    for pattern, mask, needles, digit in rules:
        if (digit and not has_digit) or (needles and not any(n in line for n in needles)):
            continue
        line, ones = sub(pattern, mask, line, ones)
        if digit:
            has_digit = _DIGIT.search(line) is not None
    return line, ones


def _mask_generic(line: str) -> str:
    return _apply(line, _GATED[:_STAGE_ONE])[0]


def _line_col(m: re.Match[str]) -> str:
    return re.sub(r"\d+", "<n>", m.group(0))


def _mask_tail(line: str, ones: list[int] | None = None) -> tuple[str, list[int] | None]:
    """Everything after the repository's names: projects, line and column, numbers and ids, repeated masks."""
    if "project" in line:
        line, ones = sub(_PROJECT, r"\1 <project>", line, ones)
    if _DIGIT.search(line):
        line, ones = sub(_LINE_COL, _line_col, line, ones)
    line, ones = _apply(line, _GATED[_STAGE_ONE:], ones)
    if "<" in line:
        line, ones = sub(_MASKED_RUN, r"\1", line, ones)
    line, ones = sub(_SPACES, " ", line, ones)
    return line.strip(), ones


def _mask_rest(line: str, repo_rules: list[tuple[re.Pattern[str], str]] | tuple = ()) -> str:
    for pattern, mask in repo_rules:
        line = pattern.sub(mask, line)
    return _mask_tail(line)[0]


# Lines repeat across a fleet (the same compiler error in many repositories, often once paths are masked,
# and with other line numbers, counts or times): both masking stages are cached by the line, and computed
# once per line with its digits 1-9 read as ones (`digits`), the line's own digits put back where they stay.
_ONE_BLIND = digit_blind([_BOILERPLATE_ANY, *(p for p, _ in _RULES[:_STAGE_ONE])])
_TWO_BLIND = digit_blind([_PROJECT, _LINE_COL, _MASKED_RUN, _SPACES, *(p for p, _ in _RULES[_STAGE_ONE:])])
_Found = tuple[str | None, tuple[int, ...]] | None


def _stage_one_plain(raw: str) -> str | None:
    if _BOILERPLATE_ANY.search(raw):
        return None
    return _mask_generic(raw)


@lru_cache(maxsize=LINE_CACHE_SIZE)
def _stage_one_ones(line: str) -> _Found:
    """Stage one of a line whose digits are zeros and ones, and which ones stay; None when that cannot be told."""
    if _BOILERPLATE_ANY.search(line):
        return None, ()
    try:
        masked, kept = _apply(line, _GATED[:_STAGE_ONE], list(range(line.count("1"))))
    except Untracked:
        return None
    return masked, tuple(kept or ())


@lru_cache(maxsize=LINE_CACHE_SIZE)
def _stage_two_ones(line: str) -> _Found:
    try:
        masked, kept = _mask_tail(line, list(range(line.count("1"))))
    except Untracked:
        return None
    return masked, tuple(kept or ())


@lru_cache(maxsize=LINE_CACHE_SIZE)
def _stage_one(raw: str) -> str | None:
    """URLs, ids, times and paths masked, or None for a blank or boilerplate line."""
    if not raw.strip():
        return None
    if _ONE_BLIND:
        found = _stage_one_ones(with_digits(raw, ONES))
        if found is not None:
            masked, kept = found
            return masked if masked is None else refill(masked, kept, raw)
    return _stage_one_plain(raw)


@lru_cache(maxsize=LINE_CACHE_SIZE)
def _stage_two(line: str) -> str:
    """The rest of the masking, for a line whose repository names are already masked."""
    if _TWO_BLIND:
        found = _stage_two_ones(with_digits(line, ONES))
        if found is not None and found[0] is not None:
            return refill(found[0], found[1], line)
    return _mask_tail(line)[0]


def repo_rules(repo: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Masking rules for a repository's own names (owner and name)."""
    return _repo_rules(repo)


@lru_cache(maxsize=16_384)
def _repo_spellings(repo: str) -> tuple[tuple[str, str], ...] | None:
    """The repository's names lower-cased with their masks, or None when one is not ASCII."""
    names = tuple((w.lower(), mask) for w, mask in _repo_names(repo))
    return names if all(w.isascii() for w, _ in names) else None


# The only characters beyond ASCII that match an ASCII letter case-insensitively, or whose lower case is not
# one character (a test checks this against every code point): without them, a line's lower case is as long
# as the line and holds an ASCII word exactly where the line does, in any case.
_FOLDS_TO_ASCII = re.compile("[\u0130\u0131\u017f\u212a]")


def _word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _replace_word(line: str, low: str, word: str, mask: str) -> str:
    """line (lower-cased: low) with every occurrence of a lower-case ASCII word between non-word characters
    replaced, as `(?<!\\w)word(?!\\w)` with re.I replaces it."""
    out: list[str] = []
    done = 0
    at = low.find(word)
    while at != -1:
        end = at + len(word)
        if (at == 0 or not _word_char(line[at - 1])) and (end == len(line) or not _word_char(line[end])):
            out.append(line[done:at])
            out.append(mask)
            done = end
            at = low.find(word, end)
        else:
            at = low.find(word, at + 1)
    if not out:
        return line
    out.append(line[done:])
    return "".join(out)


def mask_repo(line: str, repo: str) -> str:
    """The line with the repository's own names masked (`repo_rules` applied in order)."""
    spellings = _repo_spellings(repo)
    if spellings is None or (not line.isascii() and _FOLDS_TO_ASCII.search(line)):
        for pattern, mask in _repo_rules(repo):
            line = pattern.sub(mask, line)
        return line
    low = line.lower()
    for word, mask in spellings:
        if word in low:
            masked = _replace_word(line, low, word, mask)
            if masked is not line:
                line, low = masked, masked.lower()
    return line


def mask_line(raw: str, *, repo: str | None = None) -> str:
    """One line masked as `normalize_text` masks it (boilerplate lines too)."""
    line = _stage_one(raw)
    if line is None:
        line = _mask_generic(raw)
    return _stage_two(mask_repo(line, repo) if repo else line)


def normalize_text(snippet: str, *, repo: str | None = None) -> str:
    """Mask paths, numbers, versions, hashes, times and the repository's own names; drop boilerplate lines."""
    words = bool(repo and _repo_words(repo))
    out: list[str] = []
    seen: set[str] = set()
    for raw in snippet.splitlines():
        line = _stage_one(raw)
        if line is None:
            continue
        # The repository's own names are masked first; what is left is the same in every repository.
        if words:
            line = mask_repo(line, repo)
        line = _stage_two(line)
        # Repeated lines (the same error at several places) say nothing new once masked.
        if line and line not in seen:
            seen.add(line)
            out.append(line)
    return "\n".join(out)


def signature(normalized: str) -> str:
    """Stable 40-character hex digest of a normalised text."""
    return hashlib.sha1(normalized.encode("utf-8"), usedforsecurity=False).hexdigest()
