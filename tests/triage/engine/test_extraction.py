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
