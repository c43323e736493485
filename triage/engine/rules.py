"""Per-build-system rules that mark the lines of a log which explain a failure."""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Anchor:
    """A line pattern that names a failure, its weight and how many following lines belong to it."""

    pattern: re.Pattern[str]
    weight: int
    follow: int = 0


@dataclass(frozen=True)
class BuildSystem:
    """How to recognise one build system's output and which of its lines matter."""

    name: str
    sniff: re.Pattern[str]
    anchors: tuple[Anchor, ...]
    noise: re.Pattern[str] | None = None
    # Boilerplate that belongs to a failure block but never explains it (kept only inside a block).
    filler: re.Pattern[str] | None = None
    # Substrings of which every sniff match contains one (tested on the text with a newline in front):
    # when none occurs, the sniff regex cannot match and is not run.
    hints: tuple[str, ...] = ()


def _a(pattern: str, weight: int, follow: int = 0, flags: int = 0) -> Anchor:
    return Anchor(re.compile(pattern, flags), weight, follow)


_MAVEN = BuildSystem(
    name="maven",
    hints=("[INFO] ", "[ERROR] ", "BUILD FAILURE", "Failed to execute goal"),
    sniff=re.compile(r"^\[(?:INFO|ERROR)\] |BUILD FAILURE|Failed to execute goal", re.M),
    anchors=(
        _a(r"^\[ERROR\] .*\.(?:java|kt|scala|groovy):\[\d+(?:,\d+)?\] ", 6, 5),
        _a(r"^\[ERROR\] Failed to execute goal", 6),
        _a(r"Rule \d+: \S+ failed with message|Dependency convergence error|Require upper bound dependencies", 6, 12),
        _a(r"^\[ERROR\] .*(?:Could not resolve dependencies|could not be resolved|Could not find artifact)", 6),
        _a(r"^\[ERROR\] (?:The following dependencies differ|\s+Expected \S+ but found)", 6, 6),
        _a(r"^\[(?:ERROR|WARNING)\] .*(?:-Werror|warnings found)", 5),
        _a(r"^\[ERROR\] (?:Failures|Errors|Tests in error|Failed tests):", 5, 12),
        _a(r"^\[ERROR\]   \S.*(?:»|:\d+ )", 5),
        _a(r"<<< (?:FAILURE|ERROR)!$", 4, 3),
        _a(r"^\[ERROR\] Tests run:.*(?:Failures: [1-9]|Errors: [1-9])", 3),
        _a(r"^\[ERROR\] (?:COMPILATION ERROR|BUILD FAILURE)", 2),
        _a(r"^\[ERROR\] \s*\S", 3),
    ),
    noise=re.compile(r"^\[INFO\] |^\[WARNING\] (?!.*(?:-Werror|warnings found|Rule \d+:))|^\[WARNING\]\s*$"),
    filler=re.compile(
        r"^\[ERROR\]\s*$|To see the full stack trace|Re-run Maven using|For more information about the errors"
        r"|^\[ERROR\] \[Help \d+\]|^\[ERROR\] -> \[Help|After correcting the problems|mvn <\w+> -rf"
    ),
)

_GRADLE = BuildSystem(
    name="gradle",
    hints=("\n* What went wrong:", "\nFAILURE: Build failed", "\n> Task :", "BUILD FAILED in"),
    sniff=re.compile(r"^\* What went wrong:|^FAILURE: Build failed|^> Task :|BUILD FAILED in", re.M),
    anchors=(
        _a(r"^\* What went wrong:", 6, 8),
        _a(r"^e: (?:file://)?\S+\.kts?:\d+", 6, 2),
        _a(r"\.(?:java|groovy|scala):\d+: error: ", 6, 3),
        _a(r"^\S.* > .* FAILED$", 5, 4),
        _a(r"^FAILURE: Build failed", 3),
        _a(r"^> Task \S+ FAILED", 3),
        _a(r"^\s+(?:\w+\.)+\w*(?:Error|Exception)\b", 4, 2),
        _a(r"^> .*(?:Could not|failed|error)", 4, 2, re.I),
    ),
    filler=re.compile(
        r"^\* Try:|^> Run with --|^> Get more|^\* Get more help|^Run with --|BUILD FAILED in|^\d+ actionable"
    ),
)

_NPM = BuildSystem(
    name="npm",
    hints=("\nnpm ERR!", "\nnpm error", "\nerror ", "ERR_PNPM_", "\nYN"),
    sniff=re.compile(r"^npm ERR!|^npm error|^error .*(?:Command failed|yarn)|ERR_PNPM_|^YN\d{4}:", re.M),
    anchors=(
        _a(
            r"^npm (?:ERR!|error) (?:code |ERESOLVE|Could not resolve|While resolving|Found:|Conflicting|notarget|404 |peer )",
            6,
            3,
        ),
        _a(r"ERR_PNPM_\w+", 6, 3),
        _a(r"^(?:npm ERR!|npm error) \S", 3),
        _a(r"^error (?!Command failed)\S", 5, 2),
        _a(r"^YN\d{4}: .*(?:✘|ERR|error|fail)", 4, 2, re.I),
        _a(r"^(?:Error|TypeError|SyntaxError|ReferenceError): ", 5, 2),
    ),
    filler=re.compile(
        r"A complete log of this run|^npm (?:ERR!|error)\s*$|_logs/|^npm (?:ERR!|error) (?:A complete|Log files)"
        # A script that exited non-zero: the wrapper, not the reason.
        r"|^npm (?:ERR!|error) (?:code ELIFECYCLE|errno \d|Exit status|Failed at the|This is probably not a problem"
        r"|Test failed\.|\S+@\S+ \S+: `)|^ERROR: \"[\w:-]+\" exited with \d+"
    ),
)

_TSC = BuildSystem(
    name="tsc",
    hints=("error TS",),
    sniff=re.compile(r"error TS\d+"),
    anchors=(
        _a(r"error TS\d+:", 6, 2),
        _a(r"^Found \d+ errors?", 2),
    ),
)

_ESLINT = BuildSystem(
    name="eslint",
    hints=("error",),
    sniff=re.compile(r"^\s+\d+:\d+\s+error\s+", re.M),
    anchors=(
        _a(r"^\s+\d+:\d+\s+error\s+", 6),
        _a(r"^(?:/|[A-Za-z]:\\|\.{0,2}/?[\w@.-]+/)\S*\.(?:[cm]?[jt]sx?|vue|svelte)$", 4),
        _a(r"^✖ \d+ problems?", 3),
        _a(r"^\s+\d+:\d+\s+warning\s+", 1),
    ),
)

_JEST = BuildSystem(
    name="jest",
    hints=("●", "\nFAIL ", "\nTests:"),
    sniff=re.compile(r"^\s*● |^FAIL \S|^Tests:\s+\d+ failed", re.M),
    anchors=(
        _a(r"^\s*● (?!Console)", 6, 8),
        _a(r"^FAIL \S", 5),
        _a(r"^\s*(?:Expected|Received)(?: value| length)?:", 5),
        _a(r"^\s*(?:TypeError|ReferenceError|SyntaxError|Error): ", 5, 2),
        _a(r"^Tests:\s+\d+ failed", 3),
        _a(r"^\s*> \d+ \|", 3),
    ),
)

_PYTEST = BuildSystem(
    name="pytest",
    hints=("\nFAILED ", "\nERROR ", "\nE", "short test summary info", "\n="),
    sniff=re.compile(r"^(?:FAILED|ERROR) \S+\.py|^E\s{2,}|short test summary info|^=+ .*(?:failed|error)", re.M),
    anchors=(
        _a(r"^FAILED \S", 6),
        _a(r"^E\s{2,}\S", 6),
        _a(r"^ERROR \S", 5),
        _a(r"^\S+\.py:\d+: \w*(?:Error|Exception|Failed)\b", 5),
        _a(r"^_{3,} .+ _{3,}$", 3),
        _a(r"^\w*(?:Error|Exception): ", 5),
        _a(r"^=+ .*\d+ (?:failed|errors?)", 3),
    ),
)

_GO = BuildSystem(
    name="go",
    hints=("\n--- FAIL:", "\nFAIL", ".go:", "\npanic: "),
    sniff=re.compile(r"^--- FAIL:|^FAIL\s|^\S+\.go:\d+:\d+: |^panic: ", re.M),
    anchors=(
        _a(r"^\s*--- FAIL:", 6, 4),
        _a(r"^\S+\.go:\d+(?::\d+)?: ", 6),
        _a(r"^\s+\S+_test\.go:\d+: ", 5, 3),
        _a(r"^panic: ", 6, 6),
        _a(r"^# \S+$", 3),
        _a(r"^FAIL\s", 3),
    ),
)

_CARGO = BuildSystem(
    name="cargo",
    hints=("\nerror", "-->", "could not compile"),
    sniff=re.compile(r"^error(?:\[E\d{4}\])?: |^\s+--> \S+\.rs:|could not compile", re.M),
    anchors=(
        _a(r"^error\[E\d{4}\]: ", 6, 8),
        _a(r"^error: (?!could not compile|aborting)", 5, 6),
        _a(r"thread '.*' panicked at", 6, 3),
        _a(r"^test \S+ \.\.\. FAILED", 5),
        _a(r"^error: could not compile", 2),
    ),
)

_JAVAC = BuildSystem(
    name="javac",
    hints=(".java:", "\ne: "),
    sniff=re.compile(r"\.java:\d+: error: |^e: \S+\.kts?:", re.M),
    anchors=(
        _a(r"\.java:\d+: error: ", 6, 3),
        _a(r"^e: \S+\.kts?:\d+", 6, 2),
        _a(r"^\d+ errors?$", 2),
    ),
)

_DOTNET = BuildSystem(
    name="dotnet",
    hints=("error ", "Failed ", "Build FAILED."),
    sniff=re.compile(r"error (?:CS|NU|MSB|NETSDK)\d+|^\s*Failed \S+ \[|Build FAILED\.", re.M),
    anchors=(
        _a(r"error (?:CS|NU|MSB|NETSDK|FS|BC)\d+:", 6),
        _a(r"^\s*Failed \S+ \[", 5, 4),
        _a(r"^\s*(?:Assert\.\w+\(\) Failure|Expected:|Actual:)", 5),
        _a(r"^\s*Error Message:", 5, 2),
    ),
)

_BAZEL = BuildSystem(
    name="bazel",
    hints=("\nERROR: ", "\nFAILED: Build did NOT complete", "\nINFO: Build completed, "),
    sniff=re.compile(
        r"^ERROR: /\S+/BUILD(?:\.bazel)?:\d+|^FAILED: Build did NOT complete|^INFO: Build completed, \d+ test", re.M
    ),
    anchors=(
        _a(r"^ERROR: ", 6, 3),
        _a(r"^//\S+\s+FAILED", 5),
        _a(r"^FAILED: Build did NOT complete", 2),
    ),
)

# Ordered by how specific the sniff pattern is: tsc output also shows up inside npm logs.
SYSTEMS: tuple[BuildSystem, ...] = (
    _MAVEN,
    _GRADLE,
    _TSC,
    _ESLINT,
    _JEST,
    _PYTEST,
    _GO,
    _CARGO,
    _JAVAC,
    _DOTNET,
    _BAZEL,
    _NPM,
)
SYSTEM_BY_NAME = {s.name: s for s in SYSTEMS} | {
    "mvn": _MAVEN,
    "yarn": _NPM,
    "pnpm": _NPM,
    "typescript": _TSC,
    "kotlinc": _JAVAC,
    "golang": _GO,
    "rust": _CARGO,
}

# Anything else: lines naming an error in most languages and CI runners.
GENERIC = BuildSystem(
    name="generic",
    sniff=re.compile(r"$^"),
    anchors=(
        # GitHub Actions' own "step failed" line only says that the step failed: weak.
        _a(r"^##\[error\]Process completed with exit code", 2),
        _a(r"^##\[error\]", 6),
        _a(r"^Traceback \(most recent call last\)", 5, 12),
        # Compilers and linkers (gcc, clang, swiftc, ld, javac, go vet, ...): file:line[:col]: error: ...
        _a(r"^\S+?:\d+(?::\d+)?:? (?:fatal )?error\b", 5, 3),
        _a(r"^CMake Error\b", 5, 6),
        # sbt, rspec, unittest, mix and Elixir, tox, PHPUnit and friends: their own failure lines.
        _a(r"^\[error\] \S", 4),
        _a(r"^\s*Failure/Error: ", 5, 6),
        _a(r"^(?:FAIL|ERROR): \w+ \([\w.]+\)", 5),
        _a(r"^\s*\*\* \((?:[\w.]+)\)", 5, 8),
        _a(r"^ERROR: InvocationError\b|^ERROR:\s+\S+: commands failed", 3),
        _a(r"^(?:There (?:was|were) \d+ (?:failures?|errors?):|FAILURES!$)", 4),
        _a(r"^\s*(?:Caused by: )?(?:[\w$]+\.)*[\w$]*(?:Error|Exception)\b(?::|$)", 5, 4),
        _a(r"^\s*(?:fatal|error|FATAL|ERROR)(?:\[\w+\])?:", 5, 2),
        _a(
            r"(?i)\b(?:error|failed|failure|exception|fatal|panic(?:ked)?|cannot|could not|unable to|not found"
            r"|no such|denied|refused|timed out|no space left|segmentation fault|killed)\b",
            3,
        ),
        _a(r"^\s+at \S+[(\s]", 1),
        _a(r"^\s*\.\.\. \d+ (?:more|common frames omitted)$", 2),
    ),
    noise=re.compile(r"(?i)\b0 (?:errors?|failures?|failed)\b|\bno errors\b|errors?: 0\b|failures?: 0\b"),
)

# Cheap substring test (on the lower-cased line) that every anchored line passes; the regexes run only on those.
KEYWORDS: tuple[str, ...] = (
    "error",
    "err!",
    "err_",
    "fail",
    "exception",
    "fatal",
    "panic",
    "cannot",
    "could not",
    "unable",
    "not found",
    "no such",
    "denied",
    "refused",
    "timed out",
    "no space",
    "segmentation",
    "killed",
    "undefined",
    "expected",
    "received",
    "traceback",
    "caused by",
    "what went wrong",
    "werror",
    "warnings found",
    "●",
    "✖",
    ".go:",
)
# Lines starting like this are also checked: pytest `E   `, go `# pkg`, pytest headers, indented continuations.
SPECIAL_STARTS: tuple[str, ...] = ("E ", "# ", "___", " ", "\t", "//", "> ", "/", "FAIL", "** (")

# Shared noise that never explains a failure on its own.
COMMON_NOISE = re.compile(r"^[-=_*#~]{3,}\s*$|^\s*\d+%|Downloading|Downloaded|^Progress|^\s*\|\s*$")
