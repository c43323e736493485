"""The noise around a failure, shared word helpers and the Maven and Gradle build logs."""

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
