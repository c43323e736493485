"""The noise around a failure: download lines, INFO lines and test progress, per build system."""

import random

from runs.demo.entities import DemoRepo

WORDS = (
    "account",
    "balance",
    "ledger",
    "invoice",
    "payment",
    "refund",
    "order",
    "cart",
    "checkout",
    "customer",
    "session",
    "token",
    "catalog",
    "price",
    "discount",
    "shipment",
    "route",
    "report",
    "audit",
    "event",
    "schedule",
    "notification",
    "profile",
    "search",
    "index",
    "cache",
    "queue",
    "webhook",
    "export",
    "tenant",
)

MAVEN_ARTIFACTS = (
    ("org/springframework/boot", "spring-boot-starter-web", "3.3.4"),
    ("org/springframework", "spring-core", "6.1.13"),
    ("com/fasterxml/jackson/core", "jackson-databind", "2.17.2"),
    ("org/apache/logging/log4j", "log4j-api", "2.23.1"),
    ("org/junit/jupiter", "junit-jupiter-api", "5.10.3"),
    ("org/mockito", "mockito-core", "5.12.0"),
    ("com/google/guava", "guava", "33.3.0-jre"),
    ("org/slf4j", "slf4j-api", "2.0.16"),
    ("io/micrometer", "micrometer-core", "1.13.4"),
    ("org/apache/commons", "commons-lang3", "3.16.0"),
    ("org/hibernate/orm", "hibernate-core", "6.5.2.Final"),
    ("io/netty", "netty-handler", "4.1.112.Final"),
    ("org/assertj", "assertj-core", "3.26.3"),
)

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


def word(rng: random.Random) -> str:
    return rng.choice(WORDS)


def camel(rng: random.Random, suffix: str = "") -> str:
    return word(rng).capitalize() + word(rng).capitalize() + suffix


def snake(rng: random.Random) -> str:
    return f"{word(rng)}_{word(rng)}"


def artifact_name(repo: DemoRepo) -> str:
    return repo.name


def maven_downloads(rng: random.Random, count: int) -> list[str]:
    lines = []
    for _ in range(count):
        group, art, ver = rng.choice(MAVEN_ARTIFACTS)
        ext = rng.choice(("pom", "jar"))
        url = f"https://repo.maven.apache.org/maven2/{group}/{art}/{ver}/{art}-{ver}.{ext}"
        size = rng.randint(2, 1800)
        lines.append(f"Downloading from central: {url}")
        lines.append(f"Downloaded from central: {url} ({size} kB at {rng.randint(300, 9000)} kB/s)")
    return lines


def maven_header(rng: random.Random, repo: DemoRepo) -> list[str]:
    version = f"{rng.randint(1, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}-SNAPSHOT"
    lines = [
        "[INFO] Scanning for projects...",
        *maven_downloads(rng, rng.randint(40, 140)),
        "[INFO] ",
        f"[INFO] {'-' * 20}< {repo.java_package}:{artifact_name(repo)} >{'-' * 20}",
        f"[INFO] Building {repo.name} {version}",
        "[INFO]   from pom.xml",
        f"[INFO] {'-' * 30}[ jar ]{'-' * 30}",
        f"[INFO] --- maven-enforcer-plugin:3.5.0:enforce (enforce-versions) @ {repo.name} ---",
        f"[INFO] --- maven-resources-plugin:3.3.1:resources (default-resources) @ {repo.name} ---",
        f"[INFO] Copying {rng.randint(1, 12)} resources from src/main/resources to target/classes",
        f"[INFO] --- maven-compiler-plugin:3.13.0:compile (default-compile) @ {repo.name} ---",
        "[INFO] Recompiling the module because of changed source code.",
        f"[INFO] Compiling {rng.randint(40, 600)} source files with javac [debug release 17] to target/classes",
    ]
    return lines


def maven_tests(rng: random.Random, repo: DemoRepo, count: int) -> list[str]:
    lines = [
        f"[INFO] --- maven-surefire-plugin:3.5.0:test (default-test) @ {repo.name} ---",
        "[INFO] Using auto detected provider org.apache.maven.surefire.junitplatform.JUnitPlatformProvider",
        "[INFO] ",
        "[INFO] -------------------------------------------------------",
        "[INFO]  T E S T S",
        "[INFO] -------------------------------------------------------",
    ]
    for _ in range(count):
        cls = f"{repo.java_package}.{camel(rng, 'Test')}"
        n = rng.randint(1, 40)
        lines.append(f"[INFO] Running {cls}")
        if rng.random() < 0.3:
            lines.append(
                f"{rng.randint(10, 23)}:{rng.randint(10, 59)}:{rng.randint(10, 59)}.{rng.randint(100, 999)} [main] INFO  {cls} -- Started in {rng.randint(1, 9)}.{rng.randint(100, 999)} seconds"
            )
        lines.append(
            f"[INFO] Tests run: {n}, Failures: 0, Errors: 0, Skipped: {rng.choice((0, 0, 0, 1))}, "
            f"Time elapsed: {rng.uniform(0.01, 9):.3f} s -- in {cls}"
        )
    return lines


def maven_footer(rng: random.Random, *, success: bool) -> list[str]:
    minutes = rng.randint(0, 6)
    total = f"{minutes:02d}:{rng.randint(0, 59):02d} min" if minutes else f"{rng.uniform(8, 59):.3f} s"
    day = rng.randint(1, 28)
    lines = [
        "[INFO] " + "-" * 72,
        "[INFO] BUILD SUCCESS" if success else "[INFO] BUILD FAILURE",
        "[INFO] " + "-" * 72,
        f"[INFO] Total time:  {total}",
        f"[INFO] Finished at: 2025-10-{day:02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z",
        "[INFO] " + "-" * 72,
    ]
    return lines


def maven_error_help(plugin: str) -> list[str]:
    return [
        "[ERROR] ",
        "[ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch.",
        "[ERROR] Re-run Maven using the -X switch to enable full debug logging.",
        "[ERROR] ",
        "[ERROR] For more information about the errors and possible solutions, please read the following articles:",
        f"[ERROR] [Help 1] http://cwiki.apache.org/confluence/display/MAVEN/{plugin}",
    ]


def gradle_header(rng: random.Random, repo: DemoRepo) -> list[str]:
    lines = [
        "Starting a Gradle Daemon (subsequent builds will be faster)",
        f"> Configure project :{repo.name}",
    ]
    for _ in range(rng.randint(40, 150)):
        group, art, ver = rng.choice(MAVEN_ARTIFACTS)
        lines.append(
            f"Download https://repo.maven.apache.org/maven2/{group}/{art}/{ver}/{art}-{ver}.pom, took {rng.randint(20, 900)} ms"
        )
    lines += [
        "> Task :checkKotlinGradlePluginConfigurationErrors",
        "> Task :processResources",
        "> Task :kaptGenerateStubsKotlin",
    ]
    return lines


def gradle_tests(rng: random.Random, repo: DemoRepo, count: int) -> list[str]:
    lines = [
        "> Task :compileKotlin",
        "> Task :compileJava NO-SOURCE",
        "> Task :classes",
        "> Task :compileTestKotlin",
        "> Task :test",
    ]
    for _ in range(count):
        cls = f"{repo.java_package}.{camel(rng, 'Test')}"
        for _ in range(rng.randint(1, 4)):
            lines.append(f"{cls} > `{word(rng)} is {word(rng)}ed when {word(rng)} changes`() PASSED")
    return lines


def gradle_footer(rng: random.Random, *, success: bool, tasks: int) -> list[str]:
    took = f"{rng.randint(0, 4)}m {rng.randint(1, 59)}s"
    if success:
        return [f"BUILD SUCCESSFUL in {took}", f"{tasks} actionable tasks: {tasks - 2} executed, 2 up-to-date"]
    return [
        "",
        "* Try:",
        "> Run with --stacktrace option to get the stack trace.",
        "> Run with --info or --debug option to get more log output.",
        "> Run with --scan to get full insights.",
        "> Get more help at https://help.gradle.org.",
        "",
        f"BUILD FAILED in {took}",
        f"{tasks} actionable tasks: {tasks - 3} executed, 3 up-to-date",
    ]


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
