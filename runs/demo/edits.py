"""The file edits a demo agent makes when it fixes a failure: realistic per cause, named from the failure's own log.

A passing attempt that follows a failed attempt of the same repository and migration carries the edits that
fix the earlier failure's cause; a passing attempt whose own earlier verifier calls failed carries the edits
that fixed those (the session's write between a red and a green build). They become `tool_Edit`,
`tool_MultiEdit` and `tool_Write` spans shaped as Claude Code logs them (see docs/trace-convention.md).
"""

from __future__ import annotations

import random
import re

from runs.demo.entities import DemoAttempt, DemoEdit, DemoRepo

WORKSPACE = "/home/runner/_work/{name}/{name}/"
PYPI_NAMES = {"pythonjsonlogger": "python-json-logger", "yaml": "PyYAML", "jose": "python-jose"}


def workspace_path(repo: DemoRepo, relative: str) -> str:
    """The absolute path of a repository file in the agent's checkout."""
    return WORKSPACE.format(name=repo.name) + relative.lstrip("/")


def _relative(repo: DemoRepo, path: str) -> str:
    path = "/" + path.removeprefix("file://").lstrip("/")
    prefix = WORKSPACE.format(name=repo.name)
    return path[len(prefix) :] if path.startswith(prefix) else path.lstrip("/")


def _found(pattern: str, text: str, default: str) -> str:
    match = re.search(pattern, text, re.MULTILINE)
    return match.group(1) if match else default


def cause_edits(*, cause: str, output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    """The edits that fix failure `cause` whose verifier log is `output`; [] for causes no edit fixes (infra)."""
    maker = _MAKERS.get(cause)
    if maker is None:
        return []
    edits = maker(output, repo, rng)
    return [DemoEdit(e.tool, workspace_path(repo, e.file_path), e.old, e.new, e.content, e.edits) for e in edits]


def _requirements(output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    module = _found(r"No module named '([\w.]+)'", output, "structlog").split(".")[0]
    package = PYPI_NAMES.get(module, module)
    version = f"{rng.randint(1, 24)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}"
    return [DemoEdit("Edit", "requirements.txt", "pytest==8.3.3\n", f"pytest==8.3.3\n{package}=={version}\n")]


def _convergence(output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    found = re.search(r"Dependency convergence error for ([\w.-]+):([\w.-]+):jar:([\w.-]+)", output)
    group, artifact, _ = found.groups() if found else ("com.fasterxml.jackson.core", "jackson-databind", "")
    version = f"2.{rng.randint(15, 18)}.{rng.randint(0, 3)}"
    managed = (
        "  <dependencyManagement>\n    <dependencies>\n      <dependency>\n"
        f"        <groupId>{group}</groupId>\n        <artifactId>{artifact}</artifactId>\n"
        f"        <version>{version}</version>\n      </dependency>\n    </dependencies>\n  </dependencyManagement>\n"
    )
    return [DemoEdit("Edit", "pom.xml", "  <dependencies>\n", managed + "  <dependencies>\n")]


def _java_file(output: str, repo: DemoRepo, fallback: str) -> str:
    return _relative(repo, _found(r"(/\S+?\.(?:java|kt))", output, fallback))


def _cannot_find_symbol(output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    path = _java_file(output, repo, "src/test/java/ExampleTest.java")
    return [
        DemoEdit(
            "MultiEdit",
            path,
            edits=(
                ("import org.junit.Rule;\nimport org.junit.rules.ExpectedException;\n", ""),
                (
                    "    @Rule\n    public ExpectedException thrown = ExpectedException.none();\n",
                    "",
                ),
                (
                    "        thrown.expect(IllegalStateException.class);\n        service.refund(order);\n",
                    "        assertThrows(IllegalStateException.class, () -> service.refund(order));\n",
                ),
            ),
        )
    ]


def _incompatible_types(output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    path = _java_file(output, repo, "src/main/java/Example.java")
    return [
        DemoEdit(
            "MultiEdit",
            path,
            edits=(
                (
                    "import org.apache.logging.log4j.LogManager;\nimport org.apache.logging.log4j.Logger;\n",
                    "import org.slf4j.Logger;\nimport org.slf4j.LoggerFactory;\n",
                ),
                ("LogManager.getLogger(", "LoggerFactory.getLogger("),
            ),
        )
    ]


def _surefire(output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    test = _found(r"in ([\w.]+Test)\b", output, f"{repo.java_package}.ExampleTest")
    path = "src/test/java/" + test.replace(".", "/") + ".java"
    expected = _found(r"expected: <([^>]+)>", output, "1")
    actual = _found(r"but was: <([^>]+)>", output, "2")
    return [DemoEdit("Edit", path, f"assertEquals({expected}, result);", f"assertEquals({actual}, result);")]


def _checkstyle(output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    path = _java_file(output, repo, "src/main/java/Example.java")
    return [
        DemoEdit(
            "Edit",
            path,
            "import java.util.List;\n\nimport org.junit.jupiter.api.Test;\n",
            "import java.util.List;\nimport org.junit.jupiter.api.Test;\n",
        )
    ]


def _gradle_resolve(output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    found = re.search(r"Could not find ([\w.-]+):([\w.-]+):([\w.-]+)\.", output)
    group, artifact, version = found.groups() if found else ("com.fasterxml.jackson.core", "jackson-databind", "3.0.0")
    fixed = f"2.{rng.randint(15, 18)}.{rng.randint(0, 3)}"
    return [
        DemoEdit(
            "Edit",
            "build.gradle.kts",
            f'    implementation("{group}:{artifact}:{version}")\n',
            f'    implementation("{group}:{artifact}:{fixed}")\n',
        )
    ]


def _kotlin_unresolved(output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    path = _java_file(output, repo, "src/test/kotlin/ExampleTest.kt")
    name = _found(r"Unresolved reference '?(\w+)", output, "RunWith")
    return [
        DemoEdit(
            "MultiEdit",
            path,
            edits=(
                (f"import org.junit.runner.{name}\n", "import org.junit.jupiter.api.extension.ExtendWith\n"),
                (f"@{name}(SpringRunner::class)", "@ExtendWith(SpringExtension::class)"),
            ),
        )
    ]


def _spotless(output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    path = _found(r"^\s+(src/\S+\.kt)\s*$", output, "src/main/kotlin/Example.kt")
    return [
        DemoEdit(
            "Edit",
            path,
            "import org.junit.Assert.assertEquals\n",
            "import org.junit.jupiter.api.Assertions.assertEquals\n",
        )
    ]


def _ts_file(output: str, fallback: str) -> str:
    return _found(r"^(src/\S+?\.tsx?)\(\d+,\d+\)", output, fallback)


def _tsc_argument(output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    path = _ts_file(output, "src/index.ts")
    return [DemoEdit("Edit", path, "hash.update(payload);", "hash.update(payload.toString('utf8'));")]


def _tsc_property(output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    path = _ts_file(output, "src/logger.ts")
    prop = _found(r"Property '(\w+)' does not exist", output, "child")
    return [
        DemoEdit(
            "Edit",
            path,
            f"const log = pino.{prop}({{ module: '{repo.name}' }});",
            f"const log = pino().{prop}({{ module: '{repo.name}' }});",
        )
    ]


def _eslint(output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    path = _relative(repo, _found(r"^(/\S+\.tsx?)$", output, "src/index.ts"))
    if "no-explicit-any" in output:
        return [DemoEdit("Edit", path, "(event: any) =>", "(event: WebhookEvent) =>")]
    name = _found(r"'(\w+)' is assigned a value but never used", output, "unused")
    return [DemoEdit("Edit", path, f"  const {name} = await load(id);\n", "")]


def _jest(output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    path = _found(r"^FAIL (\S+\.test\.tsx?)", output, "src/index.test.ts")
    line = _found(r"^\s+> \d+ \|\s+(expect\(.+\);)\s*$", output, "expect(result).toBe(true);")
    return [DemoEdit("Edit", path, line, line.replace("toBe(", "toEqual("))]


def _eresolve(output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    found = re.search(r"Found: ([@\w/.-]+)@(\d[\w.-]*)", output)
    package, version = found.groups() if found else ("react", "16.0.5")
    wanted = _found(r'peer [@\w/.-]+@"\^?(\d+)\.', output, "19")
    return [
        DemoEdit(
            "Edit",
            "package.json",
            f'    "{package}": "^{version}",\n',
            f'    "{package}": "^{wanted}.0.0",\n',
        )
    ]


def _pytest_assertion(output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    path = _found(r"^FAILED (\S+\.py)::", output, "tests/test_app.py")
    line = _found(r"^>\s+(assert .+ == .+)$", output, "assert result == 'info'")
    # The value the code now returns ("E  assert 'INFO' == 'info'") becomes the expected one.
    actual = _found(r"^E\s+assert (.+?) == ", output, "'INFO'")
    return [DemoEdit("Edit", path, line, line.rsplit(" == ", 1)[0] + f" == {actual}")]


def _go_undefined(output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    path = _found(r"^(\S+\.go):\d+:\d+: undefined", output, "internal/app/app.go")
    return [
        DemoEdit(
            "MultiEdit",
            path,
            edits=(
                ('import "log"\n', 'import "log/slog"\n'),
                ('log.Printf("request %s", id)', 'slog.Info("request", "id", id)'),
            ),
        )
    ]


def _go_test(output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    test = _found(r"--- FAIL: (Test\w+)", output, "TestApp")
    golden = re.sub(r"(?<!^)(?=[A-Z])", "_", test.removeprefix("Test")).lower()
    return [DemoEdit("Write", f"internal/testdata/{golden}.golden", content='{"status": 200, "body": "ok"}\n')]


def _cargo(output: str, repo: DemoRepo, rng: random.Random) -> list[DemoEdit]:
    path = _found(r"--> (src/\S+?\.rs):\d+", output, "src/lib.rs")
    return [DemoEdit("Edit", path, "let id: u32 = parts[0];", "let id: u32 = parts[0].parse()?;")]


_MAKERS = {
    "pytest-import-error": _requirements,
    "maven-dependency-convergence": _convergence,
    "java-cannot-find-symbol": _cannot_find_symbol,
    "java-incompatible-types": _incompatible_types,
    "surefire-test-failure": _surefire,
    "checkstyle-violation": _checkstyle,
    "gradle-could-not-resolve": _gradle_resolve,
    "kotlin-unresolved-reference": _kotlin_unresolved,
    "spotless-violation": _spotless,
    "tsc-argument-type": _tsc_argument,
    "tsc-missing-property": _tsc_property,
    "eslint-violation": _eslint,
    "jest-assertion": _jest,
    "npm-eresolve": _eresolve,
    "pytest-assertion": _pytest_assertion,
    "go-undefined": _go_undefined,
    "go-test-fail": _go_test,
    "cargo-mismatched-types": _cargo,
}


def session_edits(attempt: DemoAttempt) -> list[DemoEdit]:
    """The edits a passing session made after its own failed verifier calls (none for other attempts)."""
    calls = attempt.verify_calls
    if attempt.phase != "migration" or attempt.outcome != "succeeded" or not calls or not calls[-1].passed:
        return []
    rng = random.Random(f"session-edits/{attempt.migration.slug}/{attempt.repo.full_name}/{attempt.number}")
    edits: list[DemoEdit] = []
    for call in calls[:-1]:
        if not call.passed and call.cause:
            edits += cause_edits(cause=call.cause, output=call.output, repo=attempt.repo, rng=rng)
    return edits


def retry_edits_attach(attempts: list[DemoAttempt]) -> None:
    """Give each passing attempt that follows a failed attempt of its repository the edits fixing that failure."""
    last_failed: dict[tuple[str, str], DemoAttempt] = {}
    for attempt in attempts:
        if attempt.phase != "migration" or attempt.damage:
            continue
        key = (attempt.migration.slug, attempt.repo.full_name)
        if attempt.outcome == "verify_failed" and attempt.failure_cause:
            last_failed[key] = attempt
        elif attempt.outcome == "succeeded" and key in last_failed:
            failed = last_failed.pop(key)
            output = next((c.output for c in reversed(failed.verify_calls) if not c.passed), "")
            rng = random.Random(f"retry-edits/{key[0]}/{key[1]}/{attempt.number}")
            attempt.edits = cause_edits(cause=failed.failure_cause, output=output, repo=attempt.repo, rng=rng)
