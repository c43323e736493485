"""The deciding line of a failure names its cause; wrappers, places and tests are left out of it."""

import pytest

from triage.engine.causes import NO_CAUSE, cause_of

CASES = [
    (
        "E   ModuleNotFoundError: No module named 'pythonjsonlogger'\nERROR tests/test_app.py\n",
        "ModuleNotFoundError: No module named 'pythonjsonlogger'",
    ),
    (
        "* What went wrong:\nExecution failed for task ':app:compileKotlin'.\n"
        "> Could not resolve all files for configuration ':app:compileClasspath'.\n"
        "   > Could not resolve com.google.guava:guava:33.1.0-jre.\n",
        "Could not resolve com.google.guava:guava:33.1.0-jre",
    ),
    (
        "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-enforcer-plugin:3.5.0:enforce (enforce) on project a:\n"
        "[ERROR] Rule 0: org.apache.maven.enforcer.rules.dependency.DependencyConvergence failed with message:\n"
        "[ERROR] Dependency convergence error for com.fasterxml.jackson.core:jackson-databind:jar:2.15.2 paths to dependency are:\n",
        "Dependency convergence error for com.fasterxml.jackson.core:jackson-databind",
    ),
    (
        "npm error code ETIMEDOUT\nnpm error network request to https://registry.npmjs.org/jest failed, reason: connect "
        "ETIMEDOUT 104.16.1.2:443\nnpm error network In most cases you are behind a proxy or have bad network settings.\n",
        "ETIMEDOUT",
    ),
    (
        "[ERROR] Failed to execute goal org.jenkins-ci.tools:maven-hpi-plugin:3.17:validate-hpi (default) on project ssh: "
        "Dependency org.jenkins-ci.plugins:ssh-credentials:jar:277.v95 requires Jenkins 2.289.3 or higher. -> [Help 1]\n",
        "Dependency org.jenkins-ci.plugins:ssh-credentials",
    ),
]


@pytest.mark.parametrize(("snippet", "named"), CASES)
def test_the_title_is_the_line_naming_the_cause_never_the_wrapper(snippet, named):
    cause = cause_of(snippet, repo="acme/app")
    assert named in cause.title
    for wrapper in ("Could not resolve all files", "Failed to execute goal", "In most cases", "Rule 0"):
        assert wrapper not in cause.title


def test_the_test_that_failed_and_its_line_are_not_part_of_the_cause():
    one = cause_of(
        "[ERROR]   BillingTest.charges:41 » ClassCast class org.slf4j.helpers.NOPLogger cannot be cast to class X"
    )
    other = cause_of(
        "java.lang.ClassCastException: class org.slf4j.helpers.NOPLogger cannot be cast to class Y\n\tat a.B.c(B.java:3)"
    )
    assert one.key == other.key
    assert "BillingTest" not in one.title
    assert one.tokens == ("org.slf4j.helpers.NOPLogger",)


def test_a_lint_rule_is_the_cause_and_the_names_in_its_message_are_not():
    first = cause_of("  12:5  error  'billingLogger' is defined but never used  no-unused-vars")
    second = cause_of("  3:1  error  'x' is defined but never used  no-unused-vars")
    assert first.key == second.key
    assert first.title.startswith("no-unused-vars")
    assert "billingLogger" not in first.title


def test_the_repository_name_inside_a_cause_token_is_masked():
    cause = cause_of("E   ModuleNotFoundError: No module named 'billing.compat'", repo="acme/billing")
    assert cause.tokens == ("<repo>.compat",)


def test_a_snippet_that_says_nothing_went_wrong_has_no_cause():
    assert cause_of("[INFO] Building billing 1.0\n[INFO] ---\n") == NO_CAUSE
    assert cause_of("") == NO_CAUSE
