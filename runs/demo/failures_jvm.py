"""Verifier logs of Maven and Gradle builds that fail, one render function per cause."""

import random

from runs.demo import buildlogs as b
from runs.demo.entities import DemoRepo


def _java_path(rng: random.Random, repo: DemoRepo, *, test: bool = False) -> tuple[str, str]:
    cls = b.camel(rng, "Test" if test else rng.choice(("Service", "Controller", "Repository", "Mapper", "Client")))
    root = "src/test/java" if test else "src/main/java"
    path = f"/home/runner/_work/{repo.name}/{repo.name}/{root}/{repo.java_package.replace('.', '/')}/{cls}.java"
    return path, cls


def _maven(
    rng: random.Random, repo: DemoRepo, error: list[str], *, tests: bool = False, plugin: str = "MojoFailureException"
) -> str:
    lines = b.maven_header(rng, repo)
    if tests:
        lines += b.maven_tests(rng, repo, rng.randint(30, 90))
    lines += error[:1] + b.maven_footer(rng, success=False) + error[1:] + b.maven_error_help(plugin)
    return "\n".join(lines) + "\n"


def render_dependency_convergence(rng: random.Random, repo: DemoRepo) -> str:
    group, art = rng.choice(
        (
            ("org.slf4j", "slf4j-api"),
            ("com.fasterxml.jackson.core", "jackson-databind"),
            ("com.google.guava", "guava"),
            ("org.apache.logging.log4j", "log4j-api"),
        )
    )
    v1, v2 = f"2.{rng.randint(0, 9)}.{rng.randint(0, 20)}", f"2.{rng.randint(10, 24)}.{rng.randint(0, 9)}"
    parent = f"{repo.java_package}:{repo.name}:1.0.0-SNAPSHOT"
    via = rng.choice(
        (
            "io.micrometer:micrometer-core",
            "org.springframework.boot:spring-boot-starter-logging",
            "com.acme.platform:platform-bom-client",
        )
    )
    error = [
        "[WARNING] Rule 0: org.apache.maven.enforcer.rules.dependency.DependencyConvergence failed with message:",
        "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-enforcer-plugin:3.5.0:enforce (enforce-versions) on project "
        f"{repo.name}: ",
        "[ERROR] Rule 0: org.apache.maven.enforcer.rules.dependency.DependencyConvergence failed with message:",
        "[ERROR] Failed while enforcing releasability.",
        "[ERROR] ",
        f"[ERROR] Dependency convergence error for {group}:{art}:jar:{v1} paths to dependency are:",
        f"[ERROR] +-{parent}",
        f"[ERROR]   +-{via}:jar:1.{rng.randint(2, 13)}.{rng.randint(0, 9)}:compile",
        f"[ERROR]     +-{group}:{art}:jar:{v1}:compile",
        "[ERROR] and",
        f"[ERROR] +-{parent}",
        f"[ERROR]   +-{group}:{art}:jar:{v2}:compile",
    ]
    return _maven(rng, repo, error, plugin="MojoExecutionException")


def render_cannot_find_symbol(rng: random.Random, repo: DemoRepo) -> str:
    path, _ = _java_path(rng, repo, test=rng.random() < 0.6)
    symbol, location = rng.choice(
        (
            ("class Rule", "package org.junit"),
            ("method assertThat(java.lang.String,org.hamcrest.Matcher<java.lang.String>)", "class org.junit.Assert"),
            ("class ExpectedException", "package org.junit.rules"),
            ("method getLogger(java.lang.Class<?>)", "class org.apache.logging.log4j.core.LoggerContext"),
            ("class ConfigurationFactory", "package org.apache.logging.log4j.core.config"),
        )
    )
    n = rng.randint(1, 6)
    error = [
        "[INFO] -------------------------------------------------------------",
        "[ERROR] COMPILATION ERROR : ",
        "[INFO] -------------------------------------------------------------",
    ]
    for _ in range(n):
        error.append(f"[ERROR] {path}:[{rng.randint(12, 480)},{rng.randint(5, 60)}] cannot find symbol")
        error.append(f"  symbol:   {symbol}")
        error.append(f"  location: {location}")
    error.append(f"[INFO] {n} error{'s' if n > 1 else ''}")
    error.append(
        f"[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.13.0:testCompile (default-testCompile) on project {repo.name}: Compilation failure"
    )
    return _maven(rng, repo, error[3:4] + error, plugin="MojoFailureException")


def render_incompatible_types(rng: random.Random, repo: DemoRepo) -> str:
    path, _ = _java_path(rng, repo)
    found, required = rng.choice(
        (
            ("org.apache.logging.log4j.Logger", "org.slf4j.Logger"),
            ("java.util.Optional<java.lang.String>", "java.lang.String"),
            ("org.junit.jupiter.api.function.Executable", "org.junit.function.ThrowingRunnable"),
            ("java.util.List<com.acme.Event>", "com.acme.Event[]"),
        )
    )
    error = [
        "[ERROR] COMPILATION ERROR : ",
        f"[ERROR] {path}:[{rng.randint(20, 700)},{rng.randint(8, 70)}] incompatible types: {found} cannot be converted to {required}",
        "[INFO] 1 error",
        f"[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.13.0:compile (default-compile) on project {repo.name}: Compilation failure",
        f"[ERROR] {path}:[{rng.randint(20, 700)},{rng.randint(8, 70)}] incompatible types: {found} cannot be converted to {required}",
    ]
    return _maven(rng, repo, error, plugin="MojoFailureException")


def render_surefire_failures(rng: random.Random, repo: DemoRepo) -> str:
    _, cls = _java_path(rng, repo, test=True)
    fq = f"{repo.java_package}.{cls}"
    method = f"{b.word(rng)}Returns{b.word(rng).capitalize()}When{b.word(rng).capitalize()}"
    expected, actual = rng.randint(1, 500), rng.randint(501, 999)
    error = [
        f"[ERROR] Tests run: {rng.randint(3, 30)}, Failures: 1, Errors: 0, Skipped: 0, Time elapsed: {rng.uniform(0.1, 6):.3f} s <<< FAILURE! -- in {fq}",
        f"[ERROR] {fq}.{method} -- Time elapsed: {rng.uniform(0.01, 2):.3f} s <<< FAILURE!",
        f"org.opentest4j.AssertionFailedError: expected: <{expected}> but was: <{actual}>",
        "\tat org.junit.jupiter.api.AssertionFailureBuilder.build(AssertionFailureBuilder.java:151)",
        "\tat org.junit.jupiter.api.AssertEquals.failNotEqual(AssertEquals.java:197)",
        f"\tat {fq}.{method}({cls}.java:{rng.randint(30, 400)})",
        "[INFO] ",
        "[INFO] Results:",
        "[INFO] ",
        "[ERROR] Failures: ",
        f"[ERROR]   {cls}.{method}:{rng.randint(30, 400)} expected: <{expected}> but was: <{actual}>",
        "[INFO] ",
        f"[ERROR] Tests run: {rng.randint(200, 900)}, Failures: 1, Errors: 0, Skipped: {rng.randint(0, 5)}",
    ]
    lines = (
        b.maven_header(rng, repo)
        + b.maven_tests(rng, repo, rng.randint(30, 100))
        + error
        + b.maven_footer(rng, success=False)
    )
    lines.append(
        f"[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:3.5.0:test (default-test) on project {repo.name}: There are test failures."
    )
    lines += b.maven_error_help("MojoFailureException")
    return "\n".join(lines) + "\n"


def render_checkstyle(rng: random.Random, repo: DemoRepo) -> str:
    error = []
    n = rng.randint(1, 5)
    for _ in range(n):
        path, _ = _java_path(rng, repo, test=rng.random() < 0.5)
        rule, msg = rng.choice(
            (
                ("UnusedImports", "Unused import - org.junit.Test."),
                (
                    "AvoidStarImport",
                    "Using the '.*' form of import should be avoided - org.junit.jupiter.api.Assertions.*.",
                ),
                ("LineLength", f"Line is longer than 120 characters (found {rng.randint(121, 180)})."),
                ("CustomImportOrder", "Extra separation in import group before 'org.junit.jupiter.api.Test'"),
            )
        )
        error.append(f"[ERROR] {path}:{rng.randint(3, 40)}:{rng.randint(1, 9)}: {msg} [{rule}]")
    head = [
        f"[INFO] --- maven-checkstyle-plugin:3.5.0:check (validate) @ {repo.name} ---",
        f"[INFO] There are {n} errors reported by Checkstyle 10.18.1 with checkstyle.xml ruleset.",
    ]
    tail = [
        f"[ERROR] Failed to execute goal org.apache.maven.plugins:maven-checkstyle-plugin:3.5.0:check (validate) on project {repo.name}: You have {n} Checkstyle violation{'s' if n > 1 else ''}. -> [Help 1]"
    ]
    lines = (
        b.maven_header(rng, repo)[:-3]
        + head
        + error
        + b.maven_footer(rng, success=False)
        + tail
        + b.maven_error_help("MojoFailureException")
    )
    return "\n".join(lines) + "\n"


def render_maven_network_timeout(rng: random.Random, repo: DemoRepo) -> str:
    group, art, ver = rng.choice(b.MAVEN_ARTIFACTS)
    host = rng.choice(("nexus.acme.internal", "repo.maven.apache.org", "artifactory.acme.internal"))
    gav = f"{group.replace('/', '.')}:{art}:jar:{ver}"
    lines = ["[INFO] Scanning for projects...", *b.maven_downloads(rng, rng.randint(40, 140))]
    lines.append(f"Downloading from central: https://{host}/maven2/{group}/{art}/{ver}/{art}-{ver}.jar")
    lines += [
        f"[WARNING] Could not transfer artifact {gav} from/to central (https://{host}/maven2): Connect timed out",
        *b.maven_footer(rng, success=False),
    ]
    lines.append(
        f"[ERROR] Failed to execute goal on project {repo.name}: Could not resolve dependencies for project {repo.java_package}:{repo.name}:jar:1.0.0-SNAPSHOT: "
        f"Failed to collect dependencies at {gav}: Failed to read artifact descriptor for {gav}: The following artifacts could not be resolved: {gav} (absent): "
        f"Could not transfer artifact {gav} from/to central (https://{host}/maven2): Connect to {host}:443 [{host}/10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}] failed: Connect timed out"
    )
    lines += b.maven_error_help("DependencyResolutionException")
    return "\n".join(lines) + "\n"


def render_gradle_could_not_resolve(rng: random.Random, repo: DemoRepo) -> str:
    group, art, ver = rng.choice(b.MAVEN_ARTIFACTS)
    # The version the migration moves to, which the repositories' mirrors do not have yet.
    coord = f"{group.replace('/', '.')}:{art}:{int(ver.split('.')[0]) + 1}.0.0"
    config = rng.choice(("compileClasspath", "runtimeClasspath", "testCompileClasspath"))
    lines = b.gradle_header(rng, repo) + [
        "> Task :compileKotlin FAILED",
        "",
        "FAILURE: Build failed with an exception.",
        "",
        "* What went wrong:",
        "Execution failed for task ':compileKotlin'.",
        f"> Could not resolve all files for configuration ':{config}'.",
        f"   > Could not find {coord}.",
        "     Searched in the following locations:",
        f"       - https://repo.maven.apache.org/maven2/{group}/{art}/{coord.rsplit(':', 1)[1]}/{art}-{coord.rsplit(':', 1)[1]}.pom",
        f"       - https://nexus.acme.internal/repository/maven-public/{group}/{art}/{coord.rsplit(':', 1)[1]}/{art}-{coord.rsplit(':', 1)[1]}.pom",
        "     Required by:",
        f"         project :{repo.name}",
    ]
    return "\n".join(lines + b.gradle_footer(rng, success=False, tasks=rng.randint(5, 14))) + "\n"


def render_kotlin_unresolved(rng: random.Random, repo: DemoRepo) -> str:
    ref = rng.choice(("Rule", "RunWith", "assertThat", "ExpectedException", "LogManager", "MockitoJUnitRunner"))
    lines = b.gradle_header(rng, repo) + ["> Task :compileKotlin", "> Task :compileTestKotlin FAILED"]
    for _ in range(rng.randint(1, 4)):
        cls = b.camel(rng, "Test")
        path = (
            f"/home/runner/_work/{repo.name}/{repo.name}/src/test/kotlin/{repo.java_package.replace('.', '/')}/{cls}.kt"
        )
        lines.append(f"e: file://{path}:{rng.randint(5, 300)}:{rng.randint(3, 40)} Unresolved reference '{ref}'.")
    lines += [
        "",
        "FAILURE: Build failed with an exception.",
        "",
        "* What went wrong:",
        "Execution failed for task ':compileTestKotlin'.",
        "> A failure occurred while executing org.jetbrains.kotlin.compilerRunner.GradleCompilerRunnerWithWorkers$GradleKotlinCompilerWorkAction",
        "   > Compilation error. See log for more details",
    ]
    return "\n".join(lines + b.gradle_footer(rng, success=False, tasks=rng.randint(6, 16))) + "\n"


def render_spotless(rng: random.Random, repo: DemoRepo) -> str:
    cls = b.camel(rng)
    path = f"src/main/kotlin/{repo.java_package.replace('.', '/')}/{cls}.kt"
    line = rng.randint(3, 40)
    lines = b.gradle_header(rng, repo) + [
        "> Task :spotlessKotlin",
        "> Task :spotlessKotlinCheck FAILED",
        "",
        "FAILURE: Build failed with an exception.",
        "",
        "* What went wrong:",
        "Execution failed for task ':spotlessKotlinCheck'.",
        "> The following files had format violations:",
        f"      {path}",
        f"          @@ -{line},7 +{line},6 @@",
        "          -import org.junit.Assert.assertEquals",
        "          +import org.junit.jupiter.api.Assertions.assertEquals",
        "           import org.junit.jupiter.api.Test",
        f"          -import {repo.java_package}.{b.camel(rng)}",
        "  Run './gradlew :spotlessApply' to fix these violations.",
    ]
    return "\n".join(lines + b.gradle_footer(rng, success=False, tasks=rng.randint(6, 16))) + "\n"
