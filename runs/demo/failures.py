"""Failure causes of the demo fleet: each renders the full verifier log of one realistic failure."""

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from runs.demo.entities import DemoRepo
from runs.demo.failures_js import (
    render_eresolve,
    render_eslint,
    render_jest,
    render_npm_timeout,
    render_tsc_argument,
    render_tsc_property,
)
from runs.demo.failures_jvm import (
    render_cannot_find_symbol,
    render_checkstyle,
    render_dependency_convergence,
    render_gradle_could_not_resolve,
    render_incompatible_types,
    render_kotlin_unresolved,
    render_maven_network_timeout,
    render_spotless,
    render_surefire_failures,
)
from runs.demo.failures_native import (
    render_cargo_mismatched,
    render_go_test_fail,
    render_go_undefined,
    render_pytest_assertion,
    render_pytest_import,
)


@dataclass(frozen=True)
class FailureCause:
    """One reason a verifier fails, the words of a prompt that fix it, and its log template."""

    key: str
    title: str
    build: str
    render: Callable[[random.Random, DemoRepo], str]
    fix_keywords: tuple[str, ...] = ()
    infra: bool = False
    weights: dict[str, float] = field(default_factory=dict)

    def weight(self, migration_slug: str) -> float:
        # Squared, so a migration's typical causes dominate its long tail as in real fleets.
        return self.weights.get(migration_slug, 1.0) ** 2


JUNIT = "junit4-to-junit5"
LOG4J = "log4j2-upgrade"
LOGGING = "structured-logging"
NODE = "node18-to-node20"

FAILURE_CAUSES: list[FailureCause] = [
    FailureCause(
        "maven-dependency-convergence",
        "Maven enforcer: dependency convergence error",
        "maven",
        render_dependency_convergence,
        ("dependencyconvergence", "dependency convergence", "<dependencymanagement>"),
        weights={LOG4J: 4.0, JUNIT: 1.0},
    ),
    FailureCause(
        "java-cannot-find-symbol",
        "javac: cannot find symbol after a removed API",
        "maven",
        render_cannot_find_symbol,
        ("cannot find symbol", "@rule", "expectedexception"),
        weights={JUNIT: 4.0, LOG4J: 1.5},
    ),
    FailureCause(
        "java-incompatible-types",
        "javac: incompatible types",
        "maven",
        render_incompatible_types,
        ("incompatible types", "slf4j logger"),
        weights={LOGGING: 2.0},
    ),
    FailureCause(
        "surefire-test-failure",
        "Surefire: test assertion failed",
        "maven",
        render_surefire_failures,
        ("assertion message argument", "argument order"),
    ),
    FailureCause(
        "checkstyle-violation",
        "Checkstyle violations (unused or star imports)",
        "maven",
        render_checkstyle,
        ("checkstyle", "unused import"),
    ),
    FailureCause(
        "maven-network-timeout",
        "Network timeout downloading a Maven dependency",
        "maven",
        render_maven_network_timeout,
        (),
        infra=True,
        weights={JUNIT: 0.5, LOG4J: 0.5},
    ),
    FailureCause(
        "gradle-could-not-resolve",
        "Gradle: could not resolve a dependency",
        "gradle",
        render_gradle_could_not_resolve,
        ("version catalog", "libs.versions.toml"),
        weights={LOG4J: 3.0},
    ),
    FailureCause(
        "kotlin-unresolved-reference",
        "Kotlin: unresolved reference after a removed API",
        "gradle",
        render_kotlin_unresolved,
        ("unresolved reference", "kotlin tests"),
        weights={JUNIT: 3.0},
    ),
    FailureCause(
        "spotless-violation", "Spotless format violations", "gradle", render_spotless, ("spotlessapply", "spotless")
    ),
    FailureCause(
        "tsc-argument-type",
        "tsc TS2345: argument type not assignable",
        "npm",
        render_tsc_argument,
        ("ts2345", "strict null"),
    ),
    FailureCause(
        "tsc-missing-property",
        "tsc TS2339: property does not exist on type",
        "npm",
        render_tsc_property,
        ("ts2339", "@types/node"),
        weights={NODE: 3.0},
    ),
    FailureCause(
        "eslint-violation",
        "ESLint errors (unused vars, explicit any)",
        "npm",
        render_eslint,
        ("eslint", "no-unused-vars"),
    ),
    FailureCause(
        "jest-assertion",
        "Jest: expect(received).toBe(expected) failed",
        "npm",
        render_jest,
        ("jest snapshot", "update the test expectations"),
    ),
    FailureCause(
        "npm-eresolve",
        "npm ERESOLVE peer dependency conflict",
        "npm",
        render_eresolve,
        ("eresolve", "peer dependenc"),
        weights={NODE: 3.0},
    ),
    FailureCause(
        "npm-network-timeout",
        "Network timeout reaching the npm registry",
        "npm",
        render_npm_timeout,
        (),
        infra=True,
        weights={NODE: 0.6, LOGGING: 0.4},
    ),
    FailureCause(
        "pytest-assertion",
        "pytest: failing assertion",
        "pytest",
        render_pytest_assertion,
        ("caplog", "log level names"),
    ),
    FailureCause(
        "pytest-import-error",
        "pytest: ImportError / ModuleNotFoundError at collection",
        "pytest",
        render_pytest_import,
        ("add it to the dependencies", "modulenotfounderror"),
        weights={LOGGING: 2.5},
    ),
    FailureCause(
        "go-undefined",
        "go build: undefined identifier",
        "go",
        render_go_undefined,
        ("log/slog", "undefined:"),
        weights={LOGGING: 2.0},
    ),
    FailureCause("go-test-fail", "go test: --- FAIL", "go", render_go_test_fail, ("golden files", "table tests")),
    FailureCause(
        "cargo-mismatched-types",
        "cargo: error[E0308] mismatched types",
        "cargo",
        render_cargo_mismatched,
        ("e0308", "tracing::level"),
    ),
]

CAUSES_BY_KEY = {cause.key: cause for cause in FAILURE_CAUSES}


def causes_for(build: str) -> list[FailureCause]:
    """The failure causes a repository with this build system can hit."""
    return [cause for cause in FAILURE_CAUSES if cause.build == build]
