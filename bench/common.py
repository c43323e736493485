"""Shared helpers for the benchmarks: data location, loading and synthetic failure texts."""

import gzip
import json
import os
import random
import resource
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


DATA_HELP = (
    "folder holding the labelled data sets (bump-dev.jsonl.gz, cidiff-extraction.jsonl.gz, ...); "
    "default: $FLEETUI_BENCH_DATA. The data sets are not part of this repository: see bench/README.md"
)
_data_dir: Path | None = None


def add_data_argument(parser) -> None:
    """The `--data DIR` option every data-set benchmark takes."""
    parser.add_argument("--data", type=Path, default=os.environ.get("FLEETUI_BENCH_DATA") or None, help=DATA_HELP)


def use_data_dir(path: Path | str | None) -> None:
    """Where `data_path` looks; set once from the command line."""
    global _data_dir
    _data_dir = Path(path).resolve() if path else None


def data_path(name: str) -> Path:
    """Path of one data set file in the folder given with --data."""
    return (_data_dir or Path("data-sets-not-given")) / name


def read_jsonl_gz(path: Path) -> Iterator[dict]:
    """Yield the records of a gzipped JSON Lines file."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def require(path: Path) -> bool:
    """Print a clear message and return False when a data file is missing."""
    if path.exists():
        return True
    where = "no --data folder given" if _data_dir is None else f"not found under {path.parent}"
    print(f"SKIP: {path.name}: {where} (pass --data DIR or set FLEETUI_BENCH_DATA); nothing measured.")
    return False


def seeded(seed: int = 20240611) -> random.Random:
    """A private random generator so every run generates the same data."""
    return random.Random(seed)


class PeakMemory:
    """Highest resident memory of this process and all its descendants together (worker processes
    included), sampled every 50 ms while the block runs: `with PeakMemory() as peak: ...; peak.mib`."""

    INTERVAL = 0.05

    def __init__(self) -> None:
        self.mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._measure()

    def _sample(self) -> None:
        while not self._stop.wait(self.INTERVAL):
            self._measure()

    def _measure(self) -> None:
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.mib = max(self.mib, own, _tree_rss_mib(os.getpid()))


def _tree_rss_mib(root: int) -> float:
    """Resident memory of a process and its descendants, from /proc (0 where /proc is missing)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        rss[int(entry)] = int(fields[21])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0) for pid in tree) * os.sysconf("SC_PAGE_SIZE") / 2**20


# Realistic failure outputs per build system; {placeholders} vary per repository.
TEMPLATES: tuple[tuple[str, str], ...] = (
    (
        "maven",
        "[INFO] BUILD FAILURE\n[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:{v}:compile "
        "(default-compile) on project {name}: Compilation failure\n[ERROR] /{home}/{name}/src/main/java/com/{owner}/{cls}.java:[{n},{m}] "
        "cannot find symbol\n[ERROR]   symbol:   class {sym}\n[ERROR]   location: package {pkg}\n[ERROR] -> [Help 1]",
    ),
    (
        "maven",
        "[ERROR] Tests run: {n}, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: {t} s <<< FAILURE! - in com.{owner}.{cls}Test\n"
        "[ERROR] com.{owner}.{cls}Test.should{sym}  Time elapsed: {t} s  <<< FAILURE!\norg.opentest4j.AssertionFailedError: "
        "expected: <{n}> but was: <{m}>\n\tat com.{owner}.{cls}Test.should{sym}({cls}Test.java:{n})",
    ),
    (
        "maven",
        "[ERROR] Rule 0: org.apache.maven.plugins.enforcer.DependencyConvergence failed with message:\n"
        "Failed while enforcing releasability.\nDependency convergence error for {dep}:{v} paths to dependency are:\n"
        "+-com.{owner}:{name}:{v}\n  +-{dep}:{v}",
    ),
    (
        "gradle",
        "FAILURE: Build failed with an exception.\n\n* What went wrong:\nExecution failed for task ':{name}:compileKotlin'.\n"
        "> Compilation error. See log for more details\ne: file:///{home}/{name}/src/main/kotlin/{cls}.kt:{n}:{m} Unresolved reference: {sym}\n"
        "\n* Try:\n> Run with --stacktrace option to get the stack trace.",
    ),
    (
        "npm",
        "npm ERR! code ERESOLVE\nnpm ERR! ERESOLVE unable to resolve dependency tree\nnpm ERR! Found: react@{v}\n"
        'npm ERR! Could not resolve dependency:\nnpm ERR! peer react@"^{v}" from {npmdep}@{v}\n'
        "npm ERR! A complete log of this run can be found in: /{home}/.npm/_logs/{ts}-debug-0.log",
    ),
    (
        "tsc",
        "src/{cls}.ts({n},{m}): error TS2345: Argument of type '{sym}' is not assignable to parameter of type 'string'.\n"
        "src/{cls}/index.ts({n},{m}): error TS2307: Cannot find module '{npmdep}' or its corresponding type declarations.\nFound 2 errors.",
    ),
    (
        "eslint",
        "/{home}/{name}/src/{cls}.js\n  {n}:{m}  error  '{sym}' is defined but never used  no-unused-vars\n"
        "  {m}:{n}  error  Unexpected console statement  no-console\n\n✖ 2 problems (2 errors, 0 warnings)",
    ),
    (
        "jest",
        "FAIL src/{cls}.test.js\n  ● {cls} › renders {sym}\n\n    expect(received).toBe(expected)\n\n"
        "    Expected: {n}\n    Received: {m}\n\n      at Object.<anonymous> (src/{cls}.test.js:{n}:{m})",
    ),
    (
        "pytest",
        "____________________ test_{sym} ____________________\n\n    def test_{sym}():\n>       assert {name}.parse({n}) == {m}\n"
        "E       AssertionError: assert {n} == {m}\n\ntests/test_{cls}.py:{n}: AssertionError\n"
        "=========================== short test summary info ============================\n"
        "FAILED tests/test_{cls}.py::test_{sym} - AssertionError: assert {n} == {m}",
    ),
    (
        "pytest",
        "E   ModuleNotFoundError: No module named '{pydep}'\nERROR tests/test_{cls}.py - ModuleNotFoundError: No module named '{pydep}'",
    ),
    (
        "go",
        "# github.com/{owner}/{name}/pkg/{pkg2}\npkg/{pkg2}/{cls}.go:{n}:{m}: undefined: {sym}\n"
        "pkg/{pkg2}/{cls}.go:{m}:{n}: cannot use x (variable of type int) as string value in argument to {sym}\nFAIL\tgithub.com/{owner}/{name} [build failed]",
    ),
    (
        "go",
        "--- FAIL: Test{sym} ({t}s)\n    {cls}_test.go:{n}: got {n}, want {m}\nFAIL\nFAIL\tgithub.com/{owner}/{name}/pkg/{pkg2}\t{t}s",
    ),
    (
        "cargo",
        "error[E0308]: mismatched types\n  --> src/{pkg2}.rs:{n}:{m}\n   |\n{n} |     let x: u32 = {sym}();\n"
        "   |            ---   ^^^^^ expected `u32`, found `String`\n\nerror: could not compile `{name}` due to previous error",
    ),
    (
        "cargo",
        "error[E0432]: unresolved import `{pydep}::{sym}`\n --> src/lib.rs:{n}:{m}\n  |\n{n} | use {pydep}::{sym};\n"
        "  |     ^^^^^^^^^^^ no `{sym}` in the root",
    ),
)
WORDS = (
    "alpha",
    "billing",
    "cache",
    "delta",
    "events",
    "fleet",
    "gateway",
    "harbor",
    "index",
    "ledger",
    "mesh",
    "notify",
    "orders",
    "payments",
    "quota",
    "router",
    "search",
    "tokens",
    "users",
    "vault",
    "worker",
    "xray",
    "yield",
    "zone",
)
SYMBOLS = (
    "Foo",
    "BarClient",
    "parseConfig",
    "LegacyMapper",
    "UserId",
    "HttpClient",
    "Session",
    "retryPolicy",
    "Clock",
    "toJson",
    "Encoder",
    "MetricsRegistry",
)
DEPS = (
    "org.slf4j:slf4j-api",
    "com.fasterxml.jackson.core:jackson-databind",
    "org.mockito:mockito-core",
    "io.netty:netty-handler",
    "org.apache.commons:commons-lang3",
    "com.google.guava:guava",
)
NPM_DEPS = ("@testing-library/react", "react-router-dom", "@types/node", "eslint-plugin-react", "webpack")
PY_DEPS = ("requests", "pydantic", "attrs", "tokio", "serde", "numpy")


def synthetic_failures(n: int, real_lines: list[str] | None = None, seed: int = 20240611) -> list[dict]:
    """n failure records {id, text, verifier, repo} built from the templates, varied per repository."""
    rnd = seeded(seed)
    records = []
    for i in range(n):
        verifier, template = TEMPLATES[rnd.randrange(len(TEMPLATES))]
        owner, name = rnd.choice(WORDS), f"{rnd.choice(WORDS)}-{rnd.choice(('api', 'service', 'web', 'core'))}"
        fields = {
            "owner": owner,
            "name": name,
            "home": rnd.choice(("home/runner/work", "builds/workspace", "tmp/ci-" + str(rnd.randrange(10**6)))),
            "cls": rnd.choice(SYMBOLS) + rnd.choice(("", "Impl", "Service", "Test")),
            "sym": rnd.choice(SYMBOLS),
            "pkg": f"com.{rnd.choice(WORDS)}.{rnd.choice(WORDS)}",
            "pkg2": rnd.choice(WORDS),
            "dep": rnd.choice(DEPS),
            "npmdep": rnd.choice(NPM_DEPS),
            "pydep": rnd.choice(PY_DEPS),
            "n": rnd.randrange(1, 900),
            "m": rnd.randrange(1, 120),
            "t": f"{rnd.random() * 9:.3f}",
            "v": f"{rnd.randrange(1, 9)}.{rnd.randrange(0, 30)}.{rnd.randrange(0, 12)}",
            "ts": f"2024-0{rnd.randrange(1, 9)}-1{rnd.randrange(0, 9)}T0{rnd.randrange(0, 9)}_{rnd.randrange(10, 59)}_00_000Z",
        }
        text = template.format(**fields)
        noise = [f"[INFO] Building {name} step {k}" for k in range(rnd.randrange(0, 30))]
        if real_lines and rnd.random() < 0.3:
            start = rnd.randrange(max(1, len(real_lines) - 20))
            noise.extend(real_lines[start : start + rnd.randrange(1, 20)])
        records.append(
            {"id": f"f{i:06d}", "text": "\n".join([*noise, text]), "verifier": None, "repo": f"{owner}/{name}"}
        )
    return records
