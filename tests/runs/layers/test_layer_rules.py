"""An attempt's layer from its outcome, its verifier calls' output and exit code, and its repository's baseline."""

from dataclasses import dataclass

import pytest

from runs.fleet.layers import (
    AGENT,
    INFRASTRUCTURE,
    PRE_EXISTING,
    UNVERIFIABLE,
    VERIFIED,
    attempt_layer,
    is_infrastructure_failure,
)


@dataclass
class Call:
    kind: str
    passed: bool
    output: str = ""
    snippet: str = ""
    exit_code: int | None = None
    command: str = ""


MAVEN_TIMEOUT = """[INFO] Scanning for projects...
[ERROR] Failed to execute goal on project ledger: Could not resolve dependencies for project acme:ledger:jar:1.0:
Could not transfer artifact org.junit.jupiter:junit-jupiter-api:jar:5.10.2 from/to central
(https://repo.maven.apache.org/maven2): Connect to repo.maven.apache.org:443 [repo.maven.apache.org/151.101.40.215]
failed: Connect timed out -> [Help 1]"""
NPM_503 = """npm ERR! code E503
npm ERR! 503 Service Unavailable - GET https://registry.npmjs.org/@types%2fnode - Service Unavailable
npm ERR! A complete log of this run can be found in: /home/runner/.npm/_logs/2024-05-01T10_00_00_000Z-debug-0.log"""
GRADLE_RESET = """> Could not resolve all files for configuration ':app:compileClasspath'.
   > Could not download guava-33.0.0-jre.jar (com.google.guava:guava:33.0.0-jre)
      > Could not get resource 'https://plugins.gradle.org/m2/com/google/guava/guava/33.0.0-jre/guava-33.0.0-jre.jar'.
         > Connection reset"""
GO_DIAL = 'go: downloading golang.org/x/sync v0.6.0\ngo: golang.org/x/sync@v0.6.0: Get "https://proxy.golang.org/golang.org/x/sync/@v/v0.6.0.zip": dial tcp 142.250.74.17:443: i/o timeout'
CARGO_502 = "error: failed to get `serde` as a dependency of package `ledger v0.1.0`\nCaused by:\n  failed to get successful HTTP response from `https://index.crates.io/se/rd/serde`, got 502"
PYTEST_DISK = "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device"
GRADLE_KILLED = "> Task :app:compileJava\nStarting a Gradle Daemon\nKilled"
MAVEN_ASSERTION = """[ERROR] Tests run: 12, Failures: 1, Errors: 0, Skipped: 0
[ERROR] LedgerTest.posts:42 expected: <42> but was: <41>
[INFO] BUILD FAILURE"""
NPM_COMPILE = (
    "src/ledger.ts(12,7): error TS2322: Type 'string' is not assignable to type 'number'.\nnpm ERR! code ELIFECYCLE"
)
PYTEST_CONNECTION_TEST = (
    "FAILED tests/test_client.py::test_retries - AssertionError: assert 3 == 2\n1 failed, 9 passed in 0.8s"
)


@pytest.mark.parametrize(
    "call",
    [
        Call("maven", False, MAVEN_TIMEOUT, exit_code=1),
        Call("npm", False, NPM_503, exit_code=1),
        Call("gradle", False, GRADLE_RESET),
        Call("go", False, GO_DIAL, exit_code=1),
        Call("cargo", False, CARGO_502, exit_code=101),
        Call("pytest", False, PYTEST_DISK),
        Call("gradle", False, GRADLE_KILLED),
        Call("maven", False, "[INFO] Building ledger 1.0", exit_code=137),
        Call("npm", False, "", snippet="Error: container ci-runner was OOMKilled"),
    ],
    ids=["maven timeout", "npm 503", "gradle reset", "go i/o timeout", "cargo 502", "disk", "killed", "137", "oom"],
)
def test_a_failure_of_the_network_registry_or_runner_is_infrastructure(call):
    assert is_infrastructure_failure(call)
    assert attempt_layer(outcome="verify_failed", verifiers=[call]) == INFRASTRUCTURE


@pytest.mark.parametrize(
    "call",
    [
        Call("maven", False, MAVEN_ASSERTION, exit_code=1),
        Call("npm", False, NPM_COMPILE, exit_code=2),
        Call("pytest", False, PYTEST_CONNECTION_TEST, exit_code=1),
        Call("go", False, "--- FAIL: TestPost (0.00s)\n    ledger_test.go:12: got 41, want 42\nFAIL", exit_code=1),
    ],
    ids=["maven assertion", "typescript error", "pytest assertion", "go test failure"],
)
def test_a_failure_the_change_caused_is_the_agents(call):
    assert not is_infrastructure_failure(call)
    assert attempt_layer(outcome="verify_failed", verifiers=[call]) == AGENT


def test_a_judge_rejection_with_passing_verifiers_is_the_agents():
    calls = [Call("maven", True, "Tests run: 12, Failures: 0\nBUILD SUCCESS")]
    assert attempt_layer(outcome="judge_rejected", verifiers=calls) == AGENT


def test_a_failure_after_a_failed_baseline_is_pre_existing_even_when_the_registry_also_failed():
    calls = [Call("npm", False, NPM_503)]
    assert attempt_layer(outcome="verify_failed", verifiers=calls, baseline_failed=True) == PRE_EXISTING


def test_a_passing_attempt_after_a_failed_baseline_is_not_pre_existing():
    calls = [Call("maven", True, "Tests run: 12, Failures: 0\nBUILD SUCCESS")]
    assert attempt_layer(outcome="succeeded", verifiers=calls, baseline_failed=True) == VERIFIED


@pytest.mark.parametrize(
    "calls",
    [
        [
            Call(
                "pytest",
                True,
                "============ test session starts ============\ncollected 0 items\n\n=== no tests ran in 0.01s ===",
            )
        ],
        [Call("maven", True, "[INFO] Tests run: 0, Failures: 0, Errors: 0, Skipped: 0\n[INFO] BUILD SUCCESS")],
        [Call("go", True, "?   \tgithub.com/acme/ledger\t[no test files]")],
        [Call("cargo", True, "running 0 tests\n\ntest result: ok. 0 passed; 0 failed; 0 ignored")],
        [Call("gradle", True, "> Task :test NO_TESTS\nBUILD SUCCESSFUL in 3s")],
        [Call("gradle", True, "> Task :processTestResources NO-SOURCE\n> Task :app:test NO-SOURCE\nBUILD SUCCESSFUL")],
        [Call("npm", True, "> jest --ci --passWithNoTests\n\nNo tests found, exiting with code 0")],
        [Call("maven", True, "[INFO] No tests to run.\n[INFO] BUILD SUCCESS")],
        [Call("go", True, "", command="gofmt -l .")],
        [Call("gofmt", True, "")],
        [Call("npm", True, "", command="npx prettier --check ."), Call("ruff", True, "All checks passed!")],
        [],
    ],
    ids=[
        "collected 0",
        "tests run 0",
        "no test files",
        "cargo 0 tests",
        "NO_TESTS",
        "gradle no test sources",
        "jest no tests found",
        "surefire no tests to run",
        "gofmt",
        "gofmt kind",
        "lint",
        "none",
    ],
)
def test_a_pass_that_verified_nothing_is_unverifiable(calls):
    assert attempt_layer(outcome="succeeded", verifiers=calls) == UNVERIFIABLE


@pytest.mark.parametrize(
    "calls",
    [
        [Call("maven", True, "[INFO] Tests run: 12, Failures: 0, Errors: 0, Skipped: 0\n[INFO] BUILD SUCCESS")],
        [Call("pytest", True, "collected 14 items\n\n============ 14 passed in 0.52s ============")],
        [Call("go", True, "ok  \tgithub.com/acme/ledger\t0.012s\n?   \tgithub.com/acme/ledger/cmd\t[no test files]")],
        [Call("gofmt", True, ""), Call("cargo", True, "running 3 tests\ntest result: ok. 3 passed; 0 failed")],
        [Call("npm", True, "Tests:       5 passed, 5 total\nTest Suites: 1 passed, 1 total")],
        [Call("gradle", True, "> Task :processTestResources NO-SOURCE\n> Task :test\n\n12 tests completed")],
    ],
    ids=["maven", "pytest", "go with one empty package", "formatter and tests", "jest", "gradle, no resources only"],
)
def test_a_pass_with_tests_that_ran_is_verified(calls):
    assert attempt_layer(outcome="succeeded", verifiers=calls) == VERIFIED


def test_an_attempt_still_running_has_no_layer_yet():
    assert attempt_layer(outcome="in_progress", verifiers=[]) == ""
