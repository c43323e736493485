"""Extraction keeps the lines that explain a failure, per build system, within the budget."""

import pytest

from triage.engine.extraction import MAX_BYTES, MAX_LINES, clean_lines, extract_snippet

MAVEN_COMPILE = """[INFO] Scanning for projects...
[INFO] Building payments-api 1.4.0-SNAPSHOT
[INFO] --- maven-compiler-plugin:3.11.0:compile (default-compile) @ payments-api ---
[INFO] Compiling 212 source files to /home/runner/_work/payments-api/target/classes
[INFO] BUILD FAILURE
[INFO] Total time:  21.337 s
[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.11.0:compile (default-compile) on project payments-api: Compilation failure
[ERROR] /home/runner/_work/payments-api/src/main/java/com/acme/pay/Ledger.java:[41,17] cannot find symbol
[ERROR]   symbol:   class LegacyMoney
[ERROR]   location: package com.acme.money
[ERROR] -> [Help 1]
[ERROR]
[ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch.
"""

MAVEN_ENFORCER = """[INFO] --- maven-enforcer-plugin:3.4.1:enforce (enforce) @ orders ---
[WARNING] Rule 0: org.apache.maven.enforcer.rules.dependency.DependencyConvergence failed with message:
Failed while enforcing releasability.
Dependency convergence error for com.fasterxml.jackson.core:jackson-databind:jar:2.15.2 paths to dependency are:
+-com.acme:orders:jar:1.0.0
  +-com.fasterxml.jackson.core:jackson-databind:jar:2.15.2
[ERROR] Failed to execute goal org.apache.maven.plugins:maven-enforcer-plugin:3.4.1:enforce (enforce) on project orders: Some Enforcer rules have failed.
"""

GRADLE = """> Task :app:compileKotlin FAILED
e: file:///home/runner/_work/app/src/main/kotlin/Main.kt:12:5 Unresolved reference: HttpClient

FAILURE: Build failed with an exception.

* What went wrong:
Execution failed for task ':app:compileKotlin'.
> Compilation error. See log for more details

* Try:
> Run with --stacktrace option to get the stack trace.

BUILD FAILED in 14s
"""

NPM = """added 1 package in 2s
npm ERR! code ERESOLVE
npm ERR! ERESOLVE unable to resolve dependency tree
npm ERR! Found: react@18.2.0
npm ERR! Could not resolve dependency:
npm ERR! peer react@"^17.0.0" from @testing-library/react@12.1.5
npm ERR! A complete log of this run can be found in: /home/runner/.npm/_logs/2024-05-02T10_11_12_000Z-debug-0.log
"""

TSC = """> tsc -p tsconfig.json
src/api/client.ts(33,7): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'.
Found 1 error.
"""

ESLINT = """/home/runner/_work/web/src/App.js
  4:10  error  'useMemo' is defined but never used  no-unused-vars

✖ 1 problem (1 error, 0 warnings)
"""

JEST = """PASS src/utils.test.js
FAIL src/Cart.test.js
  ● Cart › shows the total

    expect(received).toBe(expected)

    Expected: 42
    Received: 41
"""

PYTEST = """tests/test_pricing.py ..F                                    [100%]
___________________________ test_discount ___________________________
    def test_discount():
>       assert apply_discount(100, 0.1) == 90
E       assert 90.00000000000001 == 90
tests/test_pricing.py:12: AssertionError
=========================== short test summary info ============================
FAILED tests/test_pricing.py::test_discount - assert 90.00000000000001 == 90
========================= 1 failed, 2 passed in 0.12s =========================
"""

GO = """# github.com/acme/router/pkg/route
pkg/route/table.go:57:9: undefined: NewMatcher
FAIL\tgithub.com/acme/router [build failed]
ok  \tgithub.com/acme/router/pkg/util\t0.004s
"""

GO_TEST = """=== RUN   TestLookup
--- FAIL: TestLookup (0.00s)
    table_test.go:21: got 3 routes, want 4
FAIL
"""

CARGO = """   Compiling ledger v0.3.1 (/home/runner/_work/ledger)
error[E0308]: mismatched types
  --> src/entry.rs:18:22
   |
18 |     let amount: u64 = parse(raw);
   |                 ---   ^^^^^^^^^^ expected `u64`, found `String`

error: could not compile `ledger` due to previous error
"""

DOTNET = """  Determining projects to restore...
/home/runner/_work/Billing/Invoice.cs(14,9): error CS0246: The type or namespace name 'Money' could not be found [/home/runner/_work/Billing/Billing.csproj]
Build FAILED.
"""

BAZEL = """INFO: Analyzed target //server:server (12 packages loaded).
ERROR: /home/runner/_work/mono/server/BUILD.bazel:9:11: Compiling server/main.cc failed: (Exit 1): gcc failed: error executing command
server/main.cc:3:10: fatal error: absl/strings/str_cat.h: No such file or directory
FAILED: Build did NOT complete successfully
"""

CASES = [
    ("maven", MAVEN_COMPILE, ["Ledger.java:[41,17] cannot find symbol", "symbol:   class LegacyMoney"]),
    ("maven", MAVEN_ENFORCER, ["DependencyConvergence failed with message", "Dependency convergence error for"]),
    ("gradle", GRADLE, ["Unresolved reference: HttpClient", "What went wrong:", "Execution failed for task"]),
    ("npm", NPM, ["ERESOLVE unable to resolve dependency tree", 'peer react@"^17.0.0"']),
    ("tsc", TSC, ["error TS2345"]),
    ("eslint", ESLINT, ["no-unused-vars"]),
    ("jest", JEST, ["● Cart › shows the total", "Expected: 42", "Received: 41"]),
    ("pytest", PYTEST, ["E       assert 90.00000000000001 == 90", "FAILED tests/test_pricing.py::test_discount"]),
    ("go", GO, ["table.go:57:9: undefined: NewMatcher"]),
    ("go", GO_TEST, ["--- FAIL: TestLookup", "got 3 routes, want 4"]),
    ("cargo", CARGO, ["error[E0308]: mismatched types", "--> src/entry.rs:18:22"]),
    ("dotnet", DOTNET, ["error CS0246"]),
    ("bazel", BAZEL, ["fatal error: absl/strings/str_cat.h"]),
]


@pytest.mark.parametrize(("verifier", "log", "expected"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_it_keeps_the_lines_that_explain_the_failure_with_and_without_a_hint(verifier, log, expected):
    for hint in (verifier, None):
        snippet = extract_snippet(log, hint)
        for fragment in expected:
            assert fragment in snippet, (hint, fragment, snippet)


def test_it_leaves_out_progress_and_info_noise():
    snippet = extract_snippet(MAVEN_COMPILE, "maven")
    assert "Scanning for projects" not in snippet
    assert "Compiling 212 source files" not in snippet


def test_it_strips_ansi_codes_timestamps_and_group_markers_but_keeps_error_annotations():
    log = (
        "2024-05-02T10:11:12.1234567Z ##[group]Run npm test\n"
        "2024-05-02T10:11:12.2234567Z \x1b[31mFAIL\x1b[39m src/a.test.js\n"
        "2024-05-02T10:11:12.3234567Z ##[endgroup]\n"
        "2024-05-02T10:11:13.0000000Z ##[error]Process completed with exit code 1.\n"
    )
    snippet = extract_snippet(log)
    assert "\x1b" not in snippet
    assert "2024-05-02T" not in snippet
    assert "##[group]" not in snippet and "##[endgroup]" not in snippet
    assert "##[error]Process completed with exit code 1." in snippet
    assert clean_lines("2024-05-02T10:11:12Z hello") == ["hello"]


def test_it_stays_within_forty_lines_and_four_kilobytes_on_a_long_log():
    lines = [f"[ERROR] /w/src/main/java/p/C{i}.java:[{i},1] cannot find symbol" for i in range(500)]
    snippet = extract_snippet("\n".join(["[INFO] start"] * 1000 + lines))
    assert 0 < len(snippet.splitlines()) <= MAX_LINES
    assert len(snippet.encode()) <= MAX_BYTES
    # The end of a log holds the failure that stopped the build.
    assert "C499.java" in snippet


def test_it_falls_back_to_the_error_lines_of_an_unknown_tool():
    log = "\n".join([f"step {i} ok" for i in range(200)] + ["deploy: connection refused by registry.acme.io", "done"])
    assert "connection refused" in extract_snippet(log)


def test_it_keeps_the_first_sentences_of_a_judge_rationale():
    rationale = "The change deletes three tests instead of fixing them.  It also disables the linter. Finally it adds a TODO. Fourth."
    snippet = extract_snippet(rationale, "judge")
    assert snippet.startswith("The change deletes three tests")
    assert "Fourth." not in snippet
    assert "  " not in snippet


def test_it_accepts_bytes_and_replaces_invalid_utf8():
    snippet = extract_snippet(b"error: bad byte \xff\xfe here\n", None)
    assert "error: bad byte" in snippet


# CI job logs: the failing step is found by its CI system's markers, and what other steps print stays out.
GITLAB_JOB = (
    "Running with gitlab-runner 16.5.0 (853330f9)\n"
    "\x1b[0Ksection_start:1700000000:prepare_executor\r\x1b[0K\x1b[36;1mPreparing the docker executor\x1b[0;m\n"
    "Using docker image python:3.12 ...\n"
    "\x1b[0Ksection_end:1700000010:prepare_executor\r\x1b[0K\n"
    "\x1b[0Ksection_start:1700000020:step_script\r\x1b[0KExecuting step_script stage of the job script\n"
    "$ pip install -r requirements.txt\n"
    "Successfully installed requests-2.31.0\n"
    "$ python -m pytest -q\n"
    "..F\n"
    "FAILED tests/test_api.py::test_timeout - requests.exceptions.ConnectTimeout: timed out\n"
    "1 failed, 2 passed in 0.31s\n"
    "\x1b[0Ksection_end:1700000090:step_script\r\x1b[0K\n"
    "\x1b[0Ksection_start:1700000090:after_script\r\x1b[0KRunning after_script\n"
    "$ ./ci/upload-coverage.sh\n"
    "upload failed: no such file coverage.xml\n"
    "\x1b[0Ksection_end:1700000095:after_script\r\x1b[0K\n"
    "\x1b[0Ksection_start:1700000095:cleanup_file_variables\r\x1b[0KCleaning up project directory and file based variables\n"
    "\x1b[0Ksection_end:1700000096:cleanup_file_variables\r\x1b[0K\n"
    "\x1b[31;1mERROR: Job failed: exit code 1\x1b[0;m\n"
)

JENKINS_PIPELINE = """Started by user admin
[Pipeline] Start of Pipeline
[Pipeline] node
Running on agent-1 in /var/jenkins/workspace/api
[Pipeline] {
[Pipeline] stage
[Pipeline] { (Lint)
[Pipeline] sh
+ golangci-lint run
level=warning msg="[runner] error: deprecated linter golint"
[Pipeline] }
[Pipeline] // stage
[Pipeline] stage
[Pipeline] { (Test)
[Pipeline] sh
+ go test ./...
--- FAIL: TestParse (0.00s)
    parse_test.go:14: got "a", want "b"
FAIL
FAIL	example.com/api/parse	0.004s
[Pipeline] }
[Pipeline] // stage
[Pipeline] stage
[Pipeline] { (Deploy)
Stage "Deploy" skipped due to earlier failure(s)
[Pipeline] }
[Pipeline] // stage
[Pipeline] }
[Pipeline] End of Pipeline
ERROR: script returned exit code 1
Finished: FAILURE
"""

BUILDKITE_JOB = """~~~ Preparing working directory
$ cd /var/lib/buildkite-agent/builds/agent-1/acme/ledger
# Host "github.com" already in list of known hosts
--- :rust: Running tests
$ cargo test
   Compiling ledger v0.3.1 (/var/lib/buildkite-agent/builds/agent-1/acme/ledger)
error[E0425]: cannot find value `rate` in this scope
  --> src/lib.rs:12:9
   |
12 |         rate * amount
   |         ^^^^ not found in this scope

error: could not compile `ledger` due to previous error
^^^ +++
🚨 Error: The command exited with status 101
~~~ Running global pre-exit hook
$ /etc/buildkite-agent/hooks/pre-exit
warning: could not remove cache: permission denied
"""

GITHUB_JOB = """2024-05-02T10:11:12.0000000Z ##[group]Run actions/setup-node@v4
2024-05-02T10:11:12.1000000Z with:
2024-05-02T10:11:12.3000000Z ##[endgroup]
2024-05-02T10:11:12.5000000Z Error: no cache entry found for node 20, downloading
2024-05-02T10:11:13.0000000Z Found in cache @ /opt/hostedtoolcache/node/20.12.2/x64
2024-05-02T10:11:14.0000000Z ##[group]Run npm test
2024-05-02T10:11:14.1000000Z npm test
2024-05-02T10:11:14.3000000Z ##[endgroup]
2024-05-02T10:11:15.1000000Z > vitest run
2024-05-02T10:11:16.0000000Z  FAIL  src/cart.test.ts > Cart > adds the tax
2024-05-02T10:11:16.1000000Z AssertionError: expected 41 to be 42 // Object.is equality
2024-05-02T10:11:16.2000000Z  ❯ src/cart.test.ts:12:23
2024-05-02T10:11:16.4000000Z       Tests  1 failed | 7 passed (8)
2024-05-02T10:11:17.0000000Z ##[error]Process completed with exit code 1.
2024-05-02T10:11:18.0000000Z ##[group]Run actions/upload-artifact@v4
2024-05-02T10:11:18.1000000Z ##[endgroup]
2024-05-02T10:11:18.2000000Z ##[warning]No files were found with the provided path: report/. No artifacts will be uploaded.
"""

TRAVIS_JOB = """travis_fold:start:install
travis_time:start:0a1b2c3d
$ bundle install --jobs=3 --retry=3
Bundle complete! 42 Gemfile dependencies, 97 gems now installed.
travis_time:end:0a1b2c3d:start=1,finish=2,duration=1
travis_fold:end:install
travis_time:start:1b2c3d4e
$ bundle exec rspec
..F

Failures:

  1) Invoice#total adds the tax
     Failure/Error: expect(invoice.total).to eq(42)

       expected: 42
            got: 41

     # ./spec/invoice_spec.rb:12:in `block (2 levels) in <top (required)>'

3 examples, 1 failure
travis_time:end:1b2c3d4e:start=3,finish=4,duration=1
The command "bundle exec rspec" exited with 1.
travis_time:start:2c3d4e5f
$ ./bin/lint-docs
error: docs/old.md is stale, but errors in docs are ignored
travis_time:end:2c3d4e5f:start=5,finish=6,duration=1
The command "./bin/lint-docs" exited with 0.
Done. Your build exited with 1.
"""

CI_JOBS = [
    ("gitlab", GITLAB_JOB, ["FAILED tests/test_api.py::test_timeout", "ERROR: Job failed"], ["upload failed"]),
    ("jenkins", JENKINS_PIPELINE, ["--- FAIL: TestParse", 'got "a", want "b"'], ["golangci-lint", "deprecated"]),
    ("buildkite", BUILDKITE_JOB, ["error[E0425]: cannot find value `rate`", "--> src/lib.rs:12:9"], ["remove cache"]),
    ("github", GITHUB_JOB, ["AssertionError: expected 41 to be 42", "FAIL  src/cart.test.ts"], ["no cache entry"]),
    ("travis", TRAVIS_JOB, ["Failure/Error: expect(invoice.total)", "got: 41"], ["docs/old.md", "Bundle complete"]),
]


@pytest.mark.parametrize(("system", "log", "causes", "noise"), CI_JOBS, ids=[c[0] for c in CI_JOBS])
def test_the_snippet_of_a_ci_job_comes_from_its_failing_step(system, log, causes, noise):
    snippet = extract_snippet(log)
    for cause in causes:
        assert cause in snippet, (system, cause, snippet)
    for line in noise:
        assert line not in snippet, (system, line, snippet)
    assert "section_start" not in snippet and "[Pipeline]" not in snippet and "travis_time" not in snippet


PROGRESS = "\n".join(f"[{i}/400] Compiling module_{i} (ok)" for i in range(400))

# Build tools the fleet has not been tuned on: the cause line is kept even after long progress output.
TOOL_FAILURES = [
    (
        "unittest",
        "FAIL: test_div (tests.test_math.MathTest)\nTraceback (most recent call last):\n"
        '  File "/build/tests/test_math.py", line 9, in test_div\n    self.assertEqual(div(1, 2), 0.5)\n'
        "AssertionError: 0 != 0.5\n\nRan 2 tests in 0.001s\n\nFAILED (failures=1)",
        "AssertionError: 0 != 0.5",
    ),
    (
        "sbt",
        "[error] /build/src/main/scala/acme/Ledger.scala:41:17: not found: type LegacyMoney\n"
        "[error]   def total: LegacyMoney = ???\n[error] one error found\n"
        "[error] (Compile / compileIncremental) Compilation failed",
        "not found: type LegacyMoney",
    ),
    (
        "mix",
        "== Compilation error in file lib/ledger/entry.ex ==\n"
        "** (CompileError) lib/ledger/entry.ex:12: undefined function rate/0\n"
        "    (elixir 1.15.7) lib/kernel/parallel_compiler.ex:377: anonymous fn/5 in Kernel.ParallelCompiler",
        "undefined function rate/0",
    ),
    (
        "make",
        "cc -O2 -Wall -c src/net.c -o build/net.o\n"
        "src/net.c:88:12: error: implicit declaration of function 'inet_pton4'\n"
        "   88 |     return inet_pton4(host, out);\n      |            ^~~~~~~~~~\n"
        "make: *** [Makefile:14: build/net.o] Error 1",
        "implicit declaration of function 'inet_pton4'",
    ),
    (
        "cmake",
        'CMake Error at CMakeLists.txt:12 (find_package):\n  By not providing "FindOpenSSL.cmake" in CMAKE_MODULE_PATH\n'
        "-- Configuring incomplete, errors occurred!",
        'By not providing "FindOpenSSL.cmake"',
    ),
    (
        "swift",
        "/build/Sources/Ledger/Entry.swift:12:16: error: cannot find 'rate' in scope\n        return rate * amount",
        "cannot find 'rate' in scope",
    ),
    (
        "tox",
        "E   ModuleNotFoundError: No module named 'pythonjsonlogger'\n"
        "ERROR: InvocationError for command /build/.tox/py312/bin/pytest -q (exited with code 4)\n"
        "ERROR:   py312: commands failed",
        "No module named 'pythonjsonlogger'",
    ),
]


@pytest.mark.parametrize(("tool", "failure", "cause"), TOOL_FAILURES, ids=[t[0] for t in TOOL_FAILURES])
def test_the_cause_line_of_an_unfamiliar_tool_is_kept_and_its_progress_output_is_not(tool, failure, cause):
    snippet = extract_snippet(PROGRESS + "\n" + failure)
    assert cause in snippet, (tool, snippet)
    assert "module_10 " not in snippet
    assert len(snippet.splitlines()) <= MAX_LINES


def test_the_failing_step_is_the_first_that_failed_and_later_steps_stay_out():
    log = TRAVIS_JOB.replace(
        'The command "./bin/lint-docs" exited with 0.', 'The command "./bin/lint-docs" exited with 2.'
    )
    snippet = extract_snippet(log)
    assert "Failure/Error" in snippet
    assert "docs/old.md" not in snippet
