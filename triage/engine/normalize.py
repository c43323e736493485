"""Mask what varies between repositories in a failure snippet, keep what names the cause (pure)."""

import hashlib
import re
from functools import lru_cache

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


def _apply(line: str, rules) -> str:
    has_digit = _DIGIT.search(line) is not None
    for pattern, mask, needles, digit in rules:
        if (digit and not has_digit) or (needles and not any(n in line for n in needles)):
            continue
        line = pattern.sub(mask, line)
        if digit:
            has_digit = _DIGIT.search(line) is not None
    return line


def _mask_generic(line: str) -> str:
    return _apply(line, _GATED[:_STAGE_ONE])


def _mask_rest(line: str, repo_rules: list[tuple[re.Pattern[str], str]] | tuple = ()) -> str:
    for pattern, mask in repo_rules:
        line = pattern.sub(mask, line)
    if "project" in line:
        line = _PROJECT.sub(r"\1 <project>", line)
    if _DIGIT.search(line):
        line = _LINE_COL.sub(lambda m: re.sub(r"\d+", "<n>", m.group(0)), line)
    line = _apply(line, _GATED[_STAGE_ONE:])
    if "<" in line:
        line = _MASKED_RUN.sub(r"\1", line)
    return _SPACES.sub(" ", line).strip()


# Lines repeat across a fleet (the same compiler error in many repositories, often once paths are masked):
# both masking stages are cached.
@lru_cache(maxsize=LINE_CACHE_SIZE)
def _stage_one(raw: str) -> str | None:
    """URLs, ids, times and paths masked, or None for a blank or boilerplate line."""
    if not raw.strip() or _BOILERPLATE_ANY.search(raw):
        return None
    return _mask_generic(raw)


_stage_two = lru_cache(maxsize=LINE_CACHE_SIZE)(_mask_rest)


def repo_rules(repo: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """Masking rules for a repository's own names (owner and name)."""
    return _repo_rules(repo)


def mask_line(raw: str, *, repo: str | None = None) -> str:
    """One line masked as `normalize_text` masks it (boilerplate lines too)."""
    line = _mask_generic(raw)
    words = _repo_words(repo) if repo else ()
    if words and (not line.isascii() or any(w in line.lower() for w in words)):
        return _mask_rest(line, _repo_rules(repo))
    return _stage_two(line)


def normalize_text(snippet: str, *, repo: str | None = None) -> str:
    """Mask paths, numbers, versions, hashes, times and the repository's own names; drop boilerplate lines."""
    words = _repo_words(repo) if repo else ()
    out: list[str] = []
    seen: set[str] = set()
    for raw in snippet.splitlines():
        line = _stage_one(raw)
        if line is None:
            continue
        # A line still naming the repository is masked for this repository only, so not cached; so is a
        # non-ASCII line, where case-insensitive matching can go beyond what lower() shows.
        if words and (not line.isascii() or any(w in line.lower() for w in words)):
            line = _mask_rest(line, _repo_rules(repo))
        else:
            line = _stage_two(line)
        # Repeated lines (the same error at several places) say nothing new once masked.
        if line and line not in seen:
            seen.add(line)
            out.append(line)
    return "\n".join(out)


def signature(normalized: str) -> str:
    """Stable 40-character hex digest of a normalised text."""
    return hashlib.sha1(normalized.encode("utf-8"), usedforsecurity=False).hexdigest()
