"""Find the line of a failure snippet that decides its cause, and the tokens that name the cause (pure).

A snippet says many things: the build tool's wrapper ("Failed to execute goal ...", "Could not resolve all
files for configuration ..."), the place (paths, line numbers, test names) and, on one line, the cause: the
missing module, the unresolved artifact, the rule, the error code, the property. That line is the failure's
deciding line; its masked form is the cause key, which failures of one cause share whatever wraps them, and
the names on it are the cause tokens, which failures of different causes never share.
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from triage.engine.digits import ZEROS, with_digits
from triage.engine.needles import required_text
from triage.engine.normalize import mask_line, mask_repo


def _lowercase(pattern: str) -> re.Pattern[str]:
    """A pattern for lower-cased text: its letters lower-cased, escapes (\\W, \\S, \\d) kept.

    Matching lower-cased text is several times faster than matching with re.IGNORECASE.
    """
    out, i = [], 0
    while i < len(pattern):
        if pattern[i] == "\\":
            out.append(pattern[i : i + 2])
            i += 2
        else:
            out.append(pattern[i].lower())
            i += 1
    return re.compile("".join(out))


# A wrapper line names the tool or step that failed, not why: never a deciding line while another line says more.
_WRAPPER = _lowercase(
    r"\bBUILD FAILURE\b|\bBUILD FAILED\b|FAILURE: Build failed|COMPILATION ERROR|Compilation failure\W*$|^\W*\[ERROR\]\W*$"
    r"|Tests run:|There (?:are|were) test failures|-> \[Help|Finished: FAILURE|marked build as failure"
    r"|exit code|exited with|Process completed|^\W*(?:\[(?:ERROR|INFO)\] )?(?:Errors?|Failures|Failed tests|Tests in error):\s*$"
    r"|npm (?:ERR!|error) (?:code|errno|syscall|path|workspace|location|command|cwd|A complete log|Lifecycle script)"
    r"|npm (?:ERR!|error) network (?:This is a problem|In most cases|If you are behind|'proxy' config)"
    r"|npm (?:ERR!|error) (?:Fix the upstream|this command with|to accept an incorrect|For a full report|While resolving)"
    r"|Command failed|^FAIL\b|could not compile|Failed to execute goal|Could not resolve all (?:files|dependencies|artifacts)"
    r"|Execution failed for task|What went wrong|A failure occurred while executing|See log for more details"
    r"|For more information about (?:this|an) error|A complete log of this run|Run with --(?:stacktrace|info|debug|scan)"
    r"|Get more help at|short test summary info|^=+ ?(?:FAILURES|ERRORS) ?=+$|Interrupted: \d+ error|Please refer to"
    r"|failed with message:?\s*$|Failed while enforcing|^\W*(?:\[\w+\] )?Rule \d+: [\w.]+ failed"
    r"|ERROR: Job failed|script returned exit code|Error: Process completed|Some problems were encountered"
    r"|To see the full stack trace|Re-run Maven|For more information about the errors|\[Help \d\]"
    r"|^\W*(?:\[ERROR\] )?(?:and|Searched in the following locations:|Required by:)\s*$|Hint: make sure your test"
    r"|Traceback \(most recent call last\)|^Traceback:|problems? \(\d+ errors?|Found \d+ errors?|^\W*\d+ errors?\W*$"
    r"|ERROR collecting|warnings found and -Werror|BUILD FAILED in|Failing tests?:|Test Suites: |Tests: +\d|Time elapsed:.*<<<"
    r"|^--- FAIL: |^npm (?:ERR!|error) network\s*$|^npm warn ",
)
# The shapes that name a cause outright, strongest first; the groups are its tokens. A shape marked whole
# names the cause by its tokens alone, so its key is the tokens and any wrapper around them is left out;
# otherwise the rest of the line (the types of a type error, say) belongs to the cause too.
_NAMED: tuple[tuple[re.Pattern[str], int, bool], ...] = tuple(
    (re.compile(p), w, whole)
    for p, w, whole in (
        # A download that failed on the network fails for the host, not for the artifact it was fetching.
        (
            r"https?://([\w.-]+)[^\s]*.*?\b((?i:(?:connect|read) timed out|connection (?:refused|reset|timed out)"
            r"|unknown host|no route to host|network is unreachable)|ETIMEDOUT|ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN)\b",
            9,
            True,
        ),
        (r"No module named '?([\w.]+)'?", 9, True),
        (r"cannot import name '(\w+)' from '([\w.]+)'", 9, True),
        (r"Cannot find module '([^']+)'", 9, True),
        (
            r"(?:Could not resolve|Could not find|Failure to find|Could not find artifact|Missing artifact) "
            r"((?:[\w.-]+:){2,}[\w.+-]*[\w+])",
            9,
            True,
        ),
        (
            r"(?:Failed to collect dependencies at|could not be resolved:|Could not transfer artifact) "
            r"((?:[\w.-]+:){2,}[\w.+-]*[\w+])",
            9,
            True,
        ),
        (r"[Cc]ould not resolve dependenc(?:y|ies)[^\n]*?((?:[\w.-]+:){2,}[\w.+-]*[\w+])", 7, True),
        (r"(?:Dependency convergence|Require upper bound dependencies) error for ([\w.-]+:[\w.-]+)", 9, True),
        (r"[Pp]eer ([@\w./-]+)@\"?[^\s\"]+\"? from ([@\w./-]+)@", 9, True),
        (r"404 Not Found - GET \S*?/((?:@[\w.-]+/)?[\w.-]+)\s", 8, True),
        (r"(?:Property|property) '([\w$]+)' does not exist", 9, False),
        (r"[Uu]nresolved reference:? '?([\w$]+)'?", 9, True),
        (r"undefined: ([\w.]+)", 8, True),
        (r"unresolved import `([^`]+)`", 8, True),
        (r"Could not get unknown property '(\w+)'", 9, True),
        (r"Could not resolve placeholder '([^']+)'", 9, True),
        (r"Unknown (?:property|option|config(?:uration)? key):? '?([\w.-]+)'?", 8, True),
        (r"symbol: +((?:class|method|variable|static) [\w$.]+)", 8, True),
        (r"package ([\w.]+) does not exist", 8, True),
        (r"class file for ([\w.$]+) not found", 8, True),
        (r"cannot access ([\w.$]+)", 7, True),
        # What cannot be cast is the cause; what it was cast to is the repository's choice.
        (r"class ([\w.$]+) cannot be cast to", 7, True),
        (r"\S\s+\[([A-Z][a-z]\w+)\]\s*$", 6, True),  # checkstyle and friends: the rule in brackets at the end
        (r"expected `([^`]+)`, found `([^`]+)`", 7, False),
        (r"\bgot (.+), want (.+)$", 6, False),
        # What an assertion compared is its cause: the values, not the test that made it.
        (r"\bassert (.+?) == (.+?)\s*$", 6, False),
        (r"\bexpected:? ?<(.*?)> but was:? ?<(.*?)>", 6, False),
        (r"\bExpected:? (.+?),? Received:? (.+?)\s*$", 6, False),
        (r"\b(TS\d{4,5})\b", 6, False),
        (r"\berror\[(E\d{4})\]", 6, False),
        (r"\b(CS\d{4})\b", 6, False),
        (r"\b(E(?!RROR)[A-Z]{3,})\b(?=[: ]|$)", 4, False),  # errno names: ETIMEDOUT, ECONNREFUSED, EACCES
    )
)
NETWORK_SHAPE = 0
# ESLint and stylelint: "  12:5  error  'x' is defined but never used  no-unused-vars".
_LINT = re.compile(r"^\s*\d+:\d+\s+(?:error|warning)\s+(.+?)\s{2,}(@?[\w-]+(?:/[\w-]+)*)\s*$")
_EXCEPTION = _lowercase(r"(?:exception|error|failure|failed):|\bassert(?:ion)?\b")
_CAUSE_WORDS = _lowercase(
    r"cannot find|does not exist|not found|undefined|mismatch|incompatible|expected|requires|differ|conflict"
    r"|could not resolve|unresolved|Exception|Error\b|error\[|error TS|error CS|violat|assert|panic|denied|no such"
    r"|not assignable|cannot be|unable to|refused|timed? ?out|missing|unknown|invalid|illegal|forbidden|unauthori",
)
_ERRORISH = _lowercase(r"\berror\b|\berr!|\bfail|\bfatal\b|^e +\S|^e: ")
_FRAME = re.compile(r"^\s*(?:at [\w.$<>]+\(|\.\.\. \d+ more|… \d+ frames folded|File \"|\d+ \|| *\|)")
_TOKENISH = re.compile(r"'[^'\s]{2,80}'|`[^`\s]{2,80}`|\"[^\"\s]{2,80}\"|\b(?:[\w-]+\.)+[\w$-]+\b|\b[\w.-]+:[\w.-]+\b")
# Prefixes that say who printed the line, not what it says.
_PREFIX = re.compile(
    r"^(?:\s*(?:\[(?:ERROR|WARNING|WARN|INFO|FATAL)\]|npm (?:ERR!|error)|E(?= {2,})|e:|error:|ERROR:|>|-+>|\*|::error::|##\[error\])\s*)+"
)
# Surefire's summary names the test before "»"; the test is where, not why.
_SUREFIRE_TEST = re.compile(
    r"^(?:FAILED|ERROR) \S+::\S+ - |^(?:[\w$]+\.)+[\w$<>]+(?:\([^)]*\))?(?:\[[^\]]*\])?(?::\d+)?(?:->[\w$.<>]+(?::\d+)?)*(?:\s+»)?\s+(?=\S)"
)
# Surefire's summary shortens exception names ("ClassCast" for java.lang.ClassCastException): keys use the short form.
_EXCEPTION_NAME = re.compile(r"\b(?:[a-z][\w$]*\.)*([A-Z][\w$]*?)(?:Exception|Error)\b:?")
_SPACES = re.compile(r"\s+")
MAX_TITLE = 200
# A deciding line's own title is cut later, to the title of its cluster: here it is kept whole.
MAX_CAUSE_TITLE = 600
DECIDING_LINE_CHARS = 1000


@dataclass(frozen=True)
class Cause:
    """The deciding line of a failure, the key its cause shares with others, a title and the naming tokens."""

    line: str
    key: str
    title: str
    tokens: tuple[str, ...]
    named: bool


NO_CAUSE = Cause(line="", key="", title="", tokens=(), named=False)


_NEEDLES = tuple(required_text(pattern) for pattern, _, _ in _NAMED)


def _named(line: str) -> tuple[int, tuple[str, ...], int]:
    """(weight, tokens, index of the shape) of the strongest shape on the line; index -1 for none."""
    lint = _LINT.match(line)
    if lint:
        return 8, (lint.group(2),), -1
    for index, (pattern, weight, _) in enumerate(_NAMED):
        needle = _NEEDLES[index]
        if needle and needle not in line:
            continue  # the shape cannot match without its literal text
        m = pattern.search(line)
        if m:
            return weight, tuple(g for g in m.groups() if g), index
    return 0, (), -1


# Maven and Gradle print the cause after the goal or task that failed, on the same line.
_GOAL = re.compile(
    r"Failed to execute goal (?:[\w.:-]+ \([^)]*\) )?on project [\w.:-]+: ?|Execution failed for task '[^']*'\.? ?>? ?"
    r"| -> \[Help \d+\]\s*$"
)


def _scored_text(line: str) -> str:
    """The part of a line that is scored: Maven's and Gradle's goal or task in front left out."""
    text = line.strip()
    if "Failed to execute goal" in text or "Execution failed for task" in text:
        rest = _GOAL.sub("", text).strip(" :")
        if len(rest) >= 8 and not _WRAPPER.search(rest.lower()):
            text = rest
    return text


_ZEROS = ZEROS


def _line_score(line: str) -> tuple[float, tuple[str, ...], int]:
    """How well a line names a cause, and the tokens it names it by."""
    # Lines that differ only in their digits (line numbers, counts, times) score alike: scored once.
    score, _, shape = _digitless_score(with_digits(line, _ZEROS))
    if shape < 0 and score <= 0:
        return score, (), shape
    return score, _named(_scored_text(line))[1], shape


@lru_cache(maxsize=200_000)
def _digitless_score(line: str) -> tuple[float, tuple[str, ...], int]:
    text = line.strip()
    if len(text) < 3 or _FRAME.match(line):
        return -10.0, (), -1
    text = _scored_text(line)
    weight, tokens, shape = _named(text)
    score = float(weight)
    low = text.lower()
    wrapper, exception = _WRAPPER.search(low), _EXCEPTION.search(low)
    cause_words, errorish = _CAUSE_WORDS.search(low), _ERRORISH.search(low)
    if wrapper:
        score -= 12.0
    if exception:
        score += 3.0
    if cause_words:
        score += 2.0
    if errorish:
        score += 1.0
    if not cause_words and not errorish and not weight and not exception:
        # Names alone do not make a cause: a line that says nothing went wrong is not the deciding line.
        score -= 5.0
    score += min(3, len(_TOKENISH.findall(text))) * 0.5
    if not re.search(r"[A-Za-z]{3}", text):
        score -= 10.0
    return score, tokens, shape


def _body(line: str) -> str:
    """The line without who printed it and without the test it ran in."""
    body = _PREFIX.sub("", line.strip()).lstrip("|^~- ")
    if "Failed to execute goal" in body or "Execution failed for task" in body:
        rest = _GOAL.sub("", body).strip(" :")
        if len(rest) >= 8 and not _WRAPPER.search(rest.lower()):
            body = rest
    return _SUREFIRE_TEST.sub("", body).strip()


# Where the error is (a file and position) comes first on compiler lines: it is not part of the cause.
_LEAD = re.compile(r"^(?:error|warning|ERROR):\s*")
_LOCATION = re.compile(r"^(?:<(?:path|file|url)>|file:<path>)\S*?(?:[:(\[][<>n,\]):\s]*)+\s*")
# The same in the raw line: a path or file name with its line and column, then the message.
_RAW_LOCATION = re.compile(
    r"^(?:file:/*)?[^\s:()\[\]]*?(?:[/\\][^\s:()\[\]]*|\.\w{1,10})(?::\[?\d+(?:[,:]\d+)*\]?|\(\d+(?:,\d+)*\))+:?\s+"
)
# An absolute path inside a line: its last part says which file, the rest is the machine's.
_ABS_PATH = re.compile(r"(?<![\w.:/~-])(?:file://)?(?:/[^\s/:'\"()\[\],;]+){3,}")
# What a headline error ("error[E0308]: mismatched types", jest's matcher line) says on the lines after it.
_DETAIL = re.compile(r"expected `[^`]+`, found `[^`]+`")
_EXPECTED = re.compile(r"^\s*Expected:?\s+(\S.*?)\s*$")
_RECEIVED = re.compile(r"^\s*Received:?\s+(\S.*?)\s*$")
DETAIL_LINES = 6
# A line of a diff (a formatter's or a snapshot's) and a hunk header.
_DIFF_LINE = re.compile(r"^\s*[-+](?![-+\s])\S")
_HUNK = re.compile(r"^\s*@@ .*@@")


def _protected_mask(body: str, tokens: tuple[str, ...], repo: str | None) -> str:
    """The line masked as normalisation masks it, except the tokens that name the cause."""
    placeholders: dict[str, str] = {}
    for i, token in enumerate(sorted(set(tokens), key=len, reverse=True)):
        # Private-use characters: no masking rule matches them.
        mark = f"\ue000{chr(0xE100 + i)}\ue000"
        if len(token) >= 3 and token in body:
            placeholders[mark] = token
            body = body.replace(token, mark)
        elif token and len(token) < 3:
            # Short tokens ("3" of "got 3, want 2") only as words of their own, not inside other words and numbers.
            short = re.compile(rf"(?<![\w.]){re.escape(token)}(?![\w.])")
            if short.search(body):
                placeholders[mark] = token
                body = short.sub(mark, body)
    masked = mask_line(body, repo=repo)
    for mark, token in placeholders.items():
        # A repository's own name inside a token (its own package) is still the repository's.
        if repo:
            token = mask_repo(token, repo)
        masked = masked.replace(mark, token)
    return _SPACES.sub(" ", masked).strip()


def _raw_title(body: str) -> str:
    """The deciding line as printed, without where it was printed: the place in front, long paths shortened."""
    title = _LEAD.sub("", _RAW_LOCATION.sub("", body, count=1)) or body
    if "/" in title:
        title = _ABS_PATH.sub(lambda m: "…/" + m.group(0).rsplit("/", 1)[1], title)
    return _SPACES.sub(" ", title).strip()


def _lint_cause(line: str, repo: str | None) -> Cause:
    """A lint rule is the cause; the names in its message are the repository's own."""
    m = _LINT.match(line)
    assert m is not None
    rule, message = m.group(2), re.sub(r"'[^']*'", "'…'", m.group(1))
    title = f"{rule}: {message}"[:MAX_TITLE]
    return Cause(line=line, key=f"lint {rule}", title=title, tokens=(rule,), named=True)


def _detail(lines: list[str], i: int, best_score: float) -> str:
    """What the lines right after a headline error add to it: the types, the expected and received values."""
    for j in range(i + 1, min(len(lines), i + 1 + DETAIL_LINES)):
        line = lines[j][:DECIDING_LINE_CHARS]
        found = _DETAIL.search(line)
        if found:
            return found.group(0)
        expected = _EXPECTED.match(line)
        if expected:
            received = next((_RECEIVED.match(x) for x in lines[j + 1 : j + 3] if x.strip()), None)
            if received:
                return f"Expected: {expected.group(1)}, Received: {received.group(1)}"
        if _digitless_score(with_digits(line, _ZEROS))[0] >= best_score:
            break  # another error starts
    return ""


def _diff_heading(lines: list[str], i: int) -> str:
    """The line that introduces the diff a deciding diff line is in ("The following files had format violations:")."""
    hunk = False
    for j in range(i - 1, max(-1, i - 2 - 2 * DETAIL_LINES), -1):
        text = lines[j].strip()[:DECIDING_LINE_CHARS]
        if _HUNK.match(text):
            hunk = True
        elif hunk and text.endswith(":") and _line_score(text)[0] > 0:
            return text
    return ""


def cause_of(snippet: str, *, repo: str | None = None) -> Cause:
    """The deciding line of a snippet and its cause; NO_CAUSE for a snippet with no line worth naming."""
    best_i, best_score, best_tokens, best_shape = -1, float("-inf"), (), -1
    lines = snippet.splitlines()
    for i, raw in enumerate(lines):
        score, _, shape = _digitless_score(with_digits(raw[:DECIDING_LINE_CHARS], _ZEROS))
        # The first of equally strong lines: compilers and test runners report the cause first.
        if score > best_score:
            best_i, best_score, best_shape = i, score, shape
    if best_i < 0 or best_score <= 0:
        return NO_CAUSE
    raw = lines[best_i].strip()[:DECIDING_LINE_CHARS]
    if _LINT.match(raw):
        return _lint_cause(raw, repo)
    if raw.endswith(":") and _EXCEPTION.search(raw.lower()):
        # An exception with its message on the next line ("java.lang.AssertionError:"): the message is the cause.
        following = next((x.strip() for x in lines[best_i + 1 : best_i + 3] if _line_score(x)[0] > 0), "")
        raw = f"{raw} {following[:DECIDING_LINE_CHARS]}".strip()
    detail = _detail(lines, best_i, best_score)
    if detail and detail not in raw:
        raw = f"{raw.rstrip(' :')}: {detail}"
    elif _DIFF_LINE.match(raw):
        # A diff line says what differs; the line before the diff says what that means.
        heading = _diff_heading(lines, best_i)
        if heading:
            raw = f"{heading.rstrip(' :')}: {raw}"
    if raw != lines[best_i].strip():
        # The deciding line grew: the shape that names the cause is read on the whole of it.
        best_shape = _named(_scored_text(raw))[2]
    best_tokens = _named(_scored_text(raw))[1]
    body = _body(raw)
    if best_shape >= 0 and _NAMED[best_shape][2]:
        # A long wrapper in front of a named cause ("Could not resolve dependencies for project ...: Failed to
        # collect dependencies at <artifact>"): the title starts where the cause is named.
        m = _NAMED[best_shape][0].search(body)
        if m and m.start() > 40:
            # From the start of the clause that names it: Maven chains its causes as "A: B: C".
            start = body.rfind(": ", 0, m.start())
            start = start + 2 if start >= 0 else m.start()
            if body[start].isalpha():
                body = body[start:]
    masked = _LEAD.sub("", _LOCATION.sub("", _protected_mask(body, best_tokens, repo))) or body
    title = _raw_title(body)
    # javac puts the symbol on its own line: the title says what it is missing from where.
    if best_tokens and best_tokens[0].split(" ")[0] in ("class", "method", "variable", "static"):
        masked = f"cannot find symbol: {masked.split(':', 1)[-1].strip()}"
        title = f"cannot find symbol: {title.split(':', 1)[-1].strip()}"
    if best_tokens:
        # A host is the fleet's, not the repository's, even when it holds the owner's name (npm.acme.internal).
        own = None if best_shape == NETWORK_SHAPE else repo
        tokens = tuple(_protected_mask(t, (t,), own) for t in best_tokens)
        if not _NAMED[best_shape][2]:
            # A shape that does not name the cause alone (a type error's code): the names around it count too.
            tokens += tuple(sorted(set(_TOKENISH.findall(masked)) - set(tokens)))
    else:
        # No shape names the cause: the names on the line (dotted, quoted, coordinates) stand for it.
        tokens = tuple(sorted(set(_TOKENISH.findall(masked))))
        tokens = tuple(t for t in tokens if not _EXCEPTION_NAME.fullmatch(t))
    if best_shape >= 0 and _NAMED[best_shape][2]:
        key = f"{best_shape}: {' '.join(tokens)}"
    else:
        key = _EXCEPTION_NAME.sub(r"\1", masked).rstrip(". ")
    return Cause(line=raw, key=key, title=title[:MAX_CAUSE_TITLE], tokens=tokens, named=bool(best_tokens))
