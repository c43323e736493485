"""The noise around a failure in npm/jest, pytest, go and cargo logs, and the full log of a passing run."""

import random

from runs.demo.buildlogs import (
    camel,
    gradle_footer,
    gradle_header,
    gradle_tests,
    maven_footer,
    maven_header,
    maven_tests,
    snake,
    word,
)
from runs.demo.entities import DemoRepo

NPM_DEPRECATIONS = (
    "npm warn deprecated inflight@1.0.6: This module is not supported, and leaks memory.",
    "npm warn deprecated glob@7.2.3: Glob versions prior to v9 are no longer supported",
    "npm warn deprecated rimraf@3.0.2: Rimraf versions prior to v4 are no longer supported",
    "npm warn deprecated @humanwhocodes/config-array@0.11.14: Use @eslint/config-array instead",
    "npm warn deprecated domexception@4.0.0: Use your platform's native DOMException instead",
)

GO_DEPS = (
    ("github.com/stretchr/testify", "v1.9.0"),
    ("github.com/google/uuid", "v1.6.0"),
    ("go.uber.org/zap", "v1.27.0"),
    ("github.com/jackc/pgx/v5", "v5.6.0"),
    ("golang.org/x/sync", "v0.8.0"),
    ("github.com/prometheus/client_golang", "v1.20.2"),
    ("google.golang.org/grpc", "v1.66.0"),
)

CRATES = (
    ("serde", "1.0.210"),
    ("tokio", "1.40.0"),
    ("anyhow", "1.0.89"),
    ("tracing", "0.1.40"),
    ("serde_json", "1.0.128"),
    ("thiserror", "1.0.64"),
    ("reqwest", "0.12.7"),
    ("clap", "4.5.17"),
)


def npm_header(rng: random.Random, repo: DemoRepo) -> list[str]:
    lines = [f"> {repo.name}@{rng.randint(0, 5)}.{rng.randint(0, 40)}.{rng.randint(0, 9)} prepare", "> husky install"]
    lines += npm_fetches(rng, rng.randint(60, 200))
    lines += rng.sample(NPM_DEPRECATIONS, rng.randint(1, len(NPM_DEPRECATIONS)))
    lines += [
        "",
        f"added {rng.randint(600, 1900)} packages, and audited {rng.randint(1900, 2100)} packages in {rng.randint(9, 80)}s",
        "",
        f"{rng.randint(120, 300)} packages are looking for funding",
        "  run `npm fund` for details",
        "",
        f"{rng.randint(0, 9)} vulnerabilities ({rng.randint(0, 4)} moderate, {rng.randint(0, 3)} high)",
        "",
        f"> {repo.name}@1.0.0 build",
        "> tsc -p tsconfig.build.json",
        "",
    ]
    return lines


def npm_fetches(rng: random.Random, count: int) -> list[str]:
    names = (
        "react",
        "typescript",
        "jest",
        "eslint",
        "@babel/core",
        "esbuild",
        "lodash",
        "zod",
        "pino",
        "axios",
        "@types/node",
        "ts-node",
        "semver",
        "chalk",
        "yargs",
        "undici",
        "fastify",
        "@nestjs/common",
        "rxjs",
    )
    lines = []
    for _ in range(count):
        name = rng.choice(names)
        status = rng.choice(("200", "200", "200", "304"))
        lines.append(
            f"npm http fetch GET {status} https://registry.npmjs.org/{name} {rng.randint(8, 900)}ms (cache {rng.choice(('miss', 'revalidated', 'hit'))})"
        )
    return lines


def jest_progress(rng: random.Random, count: int) -> list[str]:
    lines = []
    for _ in range(count):
        folder = rng.choice(("components", "hooks", "services", "utils", "api", "store"))
        lines.append(
            f"PASS src/{folder}/{camel(rng)}.test.ts{'x' if folder in ('components', 'hooks') else ''} ({rng.uniform(0.4, 9):.3f} s)"
        )
    return lines


def jest_summary(rng: random.Random, *, failed: int, suites: int) -> list[str]:
    total = rng.randint(suites * 3, suites * 12)
    tests = (
        f"Tests:       {failed} failed, {total - failed} passed, {total} total"
        if failed
        else f"Tests:       {total} passed, {total} total"
    )
    suite_line = f"Test Suites: {1 if failed else 0} failed, {suites - (1 if failed else 0)} passed, {suites} total"
    return [
        suite_line,
        tests,
        "Snapshots:   0 total",
        f"Time:        {rng.uniform(4, 90):.3f} s",
        "Ran all test suites.",
    ]


def pytest_header(rng: random.Random, repo: DemoRepo, collected: int) -> list[str]:
    return [
        "=" * 29 + " test session starts " + "=" * 30,
        f"platform linux -- Python 3.12.{rng.randint(1, 7)}, pytest-8.3.{rng.randint(2, 5)}, pluggy-1.5.0",
        f"rootdir: /home/runner/_work/{repo.name}/{repo.name}",
        "configfile: pyproject.toml",
        f"plugins: cov-5.0.0, anyio-4.{rng.randint(3, 6)}.0, mock-3.14.0, xdist-3.6.1",
        f"collected {collected} items",
        "",
    ]


def pytest_progress(rng: random.Random, repo: DemoRepo, count: int, *, fail_at: int = -1) -> list[str]:
    lines = []
    done = 0
    for i in range(count):
        n = rng.randint(3, 30)
        done += n
        dots = "." * n
        if i == fail_at:
            pos = rng.randint(0, n - 1)
            dots = dots[:pos] + "F" + dots[pos + 1 :]
        lines.append(
            f"tests/{rng.choice(('unit', 'integration', 'api'))}/test_{snake(rng)}.py {dots:<40} [{min(99, done * 100 // max(1, count * 16)):3d}%]"
        )
    return lines


def go_downloads(rng: random.Random) -> list[str]:
    lines = []
    for _ in range(rng.randint(30, 110)):
        mod, ver = rng.choice(GO_DEPS)
        major, minor, patch = ver[1:].split(".")
        lines.append(f"go: downloading {mod} v{major}.{max(0, int(minor) - rng.randint(0, 3))}.{rng.randint(0, 9)}")
    return lines


def go_ok_lines(rng: random.Random, repo: DemoRepo, count: int) -> list[str]:
    lines = []
    for _ in range(count):
        pkg = f"{repo.go_module}/{rng.choice(('internal', 'pkg', 'cmd'))}/{word(rng)}"
        if rng.random() < 0.2:
            lines.append(f"?   \t{pkg}\t[no test files]")
        else:
            lines.append(f"ok  \t{pkg}\t{rng.uniform(0.003, 3):.3f}s")
    return lines


def cargo_header(rng: random.Random, repo: DemoRepo) -> list[str]:
    lines = ["    Updating crates.io index", "     Locking 212 packages to latest compatible versions"]
    for name, ver in rng.sample(CRATES, rng.randint(3, len(CRATES))):
        lines.append(f"  Downloaded {name} v{ver}")
    for _ in range(rng.randint(60, 200)):
        name, ver = rng.choice(CRATES)
        suffix = rng.choice(("", "", "-core", "-macros", "-derive", "-util"))
        lines.append(f"   Compiling {name}{suffix} v{ver.rsplit('.', 1)[0]}.{rng.randint(0, 30)}")
    lines.append(
        f"   Compiling {repo.name} v0.{rng.randint(1, 9)}.{rng.randint(0, 20)} (/home/runner/_work/{repo.name}/{repo.name})"
    )
    return lines


def cargo_tests(rng: random.Random, repo: DemoRepo, count: int) -> list[str]:
    lines = [
        f"    Finished `test` profile [unoptimized + debuginfo] target(s) in {rng.uniform(20, 190):.2f}s",
        f"     Running unittests src/lib.rs (target/debug/deps/{repo.crate}-{rng.getrandbits(64):016x})",
        "",
        f"running {count} tests",
    ]
    for _ in range(count):
        lines.append(f"test {word(rng)}::tests::{snake(rng)} ... ok")
    lines += [
        "",
        f"test result: ok. {count} passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in {rng.uniform(0.01, 4):.2f}s",
        "",
    ]
    return lines


def render_passing(rng: random.Random, repo: DemoRepo) -> str:
    """The full log of a verifier call that passed, for the repository's build system."""
    if repo.build == "maven":
        lines = maven_header(rng, repo) + maven_tests(rng, repo, rng.randint(40, 120))
        n = rng.randint(200, 900)
        lines += [
            "[INFO] ",
            "[INFO] Results:",
            "[INFO] ",
            f"[INFO] Tests run: {n}, Failures: 0, Errors: 0, Skipped: {rng.randint(0, 6)}",
            "[INFO] ",
        ]
        lines += maven_footer(rng, success=True)
    elif repo.build == "gradle":
        lines = gradle_header(rng, repo) + gradle_tests(rng, repo, rng.randint(30, 90))
        lines += ["> Task :check", "> Task :build", ""] + gradle_footer(rng, success=True, tasks=rng.randint(9, 30))
    elif repo.build == "npm":
        lines = npm_header(rng, repo) + [
            f"> {repo.name}@1.0.0 lint",
            "> eslint . --max-warnings 0",
            "",
            f"> {repo.name}@1.0.0 test",
            "> jest --ci",
            "",
        ]
        suites = rng.randint(40, 140)
        lines += jest_progress(rng, suites) + jest_summary(rng, failed=0, suites=suites)
    elif repo.build == "pytest":
        count = rng.randint(40, 160)
        lines = pytest_header(rng, repo, count * 16) + pytest_progress(rng, repo, count)
        lines.append(
            "=" * 25 + f" {count * 16} passed, {rng.randint(0, 30)} warnings in {rng.uniform(4, 200):.2f}s " + "=" * 25
        )
    elif repo.build == "go":
        lines = go_downloads(rng) + go_ok_lines(rng, repo, rng.randint(40, 140))
    else:
        lines = cargo_header(rng, repo) + cargo_tests(rng, repo, rng.randint(30, 120))
        lines += [
            "   Doc-tests " + repo.crate,
            "",
            "running 0 tests",
            "",
            "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
        ]
    return "\n".join(lines) + "\n"


def render_no_tests(rng: random.Random, repo: DemoRepo) -> str:
    """The log of a verifier call that passed without running a single test, as each build system prints it."""
    if repo.build == "maven":
        lines = maven_header(rng, repo) + [
            f"[INFO] --- surefire:3.2.{rng.randint(2, 5)}:test (default-test) @ {repo.name} ---",
            "[INFO] No tests to run.",
            "[INFO] ",
            "[INFO] Tests run: 0, Failures: 0, Errors: 0, Skipped: 0",
            "[INFO] ",
        ]
        lines += maven_footer(rng, success=True)
    elif repo.build == "gradle":
        lines = gradle_header(rng, repo) + ["> Task :compileTestKotlin NO-SOURCE", "> Task :test NO-SOURCE", ""]
        lines += ["> Task :check", "> Task :build", ""] + gradle_footer(rng, success=True, tasks=rng.randint(5, 12))
    elif repo.build == "npm":
        lines = npm_header(rng, repo) + [
            f"> {repo.name}@1.0.0 test",
            "> jest --ci --passWithNoTests",
            "",
            "No tests found, exiting with code 0",
        ]
    elif repo.build == "pytest":
        lines = pytest_header(rng, repo, 0)
        lines.append("=" * 25 + f" no tests ran in {rng.uniform(0.01, 0.9):.2f}s " + "=" * 25)
    elif repo.build == "go":
        lines = go_downloads(rng) + [
            f"?   \t{repo.go_module}/{rng.choice(('internal', 'pkg', 'cmd'))}/{word(rng)}\t[no test files]"
            for _ in range(rng.randint(3, 12))
        ]
    else:
        lines = cargo_header(rng, repo) + [
            "     Running unittests src/lib.rs",
            "",
            "running 0 tests",
            "",
            "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
        ]
    return "\n".join(lines) + "\n"
