"""The demo migrations, their prompt revisions, and what the judge says about agents' changes."""

from dataclasses import dataclass

from runs.demo.entities import DemoMigration

JUNIT_R1 = """You are migrating this repository's tests from JUnit 4 to JUnit 5 (Jupiter).

1. In the build file, replace junit:junit with org.junit.jupiter:junit-jupiter (use the version managed by the
   platform BOM if there is one) and add org.junit.vintage:junit-vintage-engine only if some tests cannot move.
2. Replace org.junit.Test with org.junit.jupiter.api.Test, @Before/@After with @BeforeEach/@AfterEach,
   @BeforeClass/@AfterClass with @BeforeAll/@AfterAll, @Ignore with @Disabled.
3. Replace org.junit.Assert with org.junit.jupiter.api.Assertions.
4. Run the verify tool. When it passes, open a pull request titled "Migrate tests to JUnit 5".
Do not change production code."""

JUNIT_R2 = (
    JUNIT_R1
    + """

Known problems from earlier runs:
- "cannot find symbol" on @Rule, ExpectedException or TemporaryFolder: these JUnit 4 rules do not exist in JUnit 5.
  Use assertThrows(...) instead of ExpectedException and @TempDir instead of TemporaryFolder.
- The assertion message argument moved from first to last position: assertEquals(message, expected, actual)
  becomes assertEquals(expected, actual, message). Keep the argument order right or tests fail.
- Kotlin tests: an "unresolved reference" to org.junit.Rule or RunWith means the Kotlin tests still use JUnit 4
  annotations; use @ExtendWith(MockitoExtension::class) instead of @RunWith(MockitoJUnitRunner::class)."""
)

JUNIT_R3 = (
    JUNIT_R2
    + """
- Remove the imports you no longer use: Checkstyle fails the build on an unused import or a star import
  (import org.junit.jupiter.api.Assertions.* is rejected); on Gradle projects run ./gradlew spotlessApply.
- Never delete or @Disable a failing test to make the build pass; fix it or stop and explain why."""
)

LOG4J_R1 = """Upgrade Apache Log4j 2 in this repository to 2.24.1.

Update log4j-api, log4j-core and log4j-slf4j2-impl (and any other org.apache.logging.log4j artifact) to 2.24.1,
in the BOM or dependencyManagement if the project has one, otherwise where each dependency is declared.
Run the verify tool. When it passes, open a pull request titled "Bump Log4j to 2.24.1"."""

LOG4J_R2 = (
    LOG4J_R1
    + """

If the Maven enforcer reports a DependencyConvergence error, do not exclude the transitive dependency: pin the
converged version in <dependencyManagement> (or import the log4j-bom) so that every path resolves to 2.24.1.
On Gradle projects that use a version catalog, change the version in gradle/libs.versions.toml, not in the
build script, and check that the new coordinates exist before you use them."""
)

LOG4J_R3 = (
    LOG4J_R2
    + """
ConfigurationFactory and LoggerContext internals moved between releases: if the build says "cannot find symbol"
for a log4j-core class, use the public API (LogManager, Configurator) instead of the internal class."""
)

LOGGING_R1 = """Make this service log structured JSON instead of plain text.

Use the language's standard structured logger: SLF4J with logstash-logback-encoder (Java), structlog (Python),
log/slog with a JSON handler (Go), tracing with tracing-subscriber's json feature (Rust), pino (TypeScript).
Every log line must carry the fields level, message, service and trace_id. Keep the existing log levels and
messages. Create the logger once at start-up and pass it down; do not build a new logger per request.
Run the verify tool. When it passes, open a pull request titled "Structured JSON logging"."""

LOGGING_R2 = (
    LOGGING_R1
    + """

Known problems from earlier runs:
- Python: if tests fail with ModuleNotFoundError for structlog or pythonjsonlogger, add it to the dependencies
  (pyproject.toml or requirements.txt), not only to the import.
- Go: use log/slog from the standard library (Go 1.21+); "undefined:" errors usually mean the code still calls
  the old logger's API or the go directive in go.mod is older than 1.21.
- Java: an "incompatible types" error between org.apache.logging.log4j.Logger and org.slf4j.Logger means a field
  still has the old type; use the SLF4J Logger everywhere."""
)

LOGGING_R3 = (
    LOGGING_R2
    + """
- Tests that check log output (caplog, captured stdout) must now compare JSON fields; keep the log level names
  as the tests expect them (lower case "info").
- Rust: tracing::Level is not a &str; E0308 mismatched types there means you passed a string where a Level is
  expected.
- Do not touch files unrelated to logging, and keep the existing tests: the reviewer rejects unrelated changes."""
)

NODE_R1 = """Move this repository from Node.js 18 to Node.js 20.

Change .nvmrc, the engines field of package.json, the CI workflow's node-version and the Dockerfile base image
to Node 20. Update @types/node to ^20. Run npm install to refresh package-lock.json, then run the verify tool.
When it passes, open a pull request titled "Node.js 20"."""

NODE_R2 = (
    NODE_R1
    + """

If npm fails with ERESOLVE (a peer dependency conflict), do not use --force or --legacy-peer-deps: upgrade the
package that declares the peer dependency to a version that supports the new peer. After updating @types/node,
TS2339 "Property ... does not exist on type" errors usually point at a Node API that changed type; fix the
call, do not cast to any (ESLint forbids @typescript-eslint/no-explicit-any)."""
)

MIGRATIONS: list[DemoMigration] = [
    DemoMigration(
        "junit4-to-junit5",
        "Migrate tests from JUnit 4 to JUnit 5",
        ("maven", "gradle"),
        (JUNIT_R1, JUNIT_R2, JUNIT_R3),
        0.36,
        "claude-sonnet-4-5",
    ),
    DemoMigration(
        "log4j2-upgrade",
        "Upgrade Log4j 2 to 2.24.1",
        ("maven", "gradle"),
        (LOG4J_R1, LOG4J_R2, LOG4J_R3),
        0.3,
        "claude-sonnet-4-5",
    ),
    DemoMigration(
        "structured-logging",
        "Adopt structured JSON logging",
        ("maven", "gradle", "npm", "pytest", "go", "cargo"),
        (LOGGING_R1, LOGGING_R2, LOGGING_R3),
        0.34,
        "gpt-4.1",
    ),
    DemoMigration(
        "node18-to-node20", "Move services from Node.js 18 to Node.js 20", ("npm",), (NODE_R1, NODE_R2), 0.32, "gpt-4.1"
    ),
]


@dataclass(frozen=True)
class JudgeRejection:
    """A reason the judge rejects a change whose verifiers passed, and the prompt words that prevent it."""

    key: str
    rationale: str
    fix_keywords: tuple[str, ...]
    verdict: str = "reject"


JUDGE_REJECTIONS: list[JudgeRejection] = [
    JudgeRejection(
        "deleted-tests",
        "The agent deleted the failing tests ({detail}) instead of migrating them; the build passes only because "
        "the tests no longer run.",
        ("never delete", "keep the existing tests"),
        verdict="veto",
    ),
    JudgeRejection(
        "unrelated-changes",
        "The diff contains unrelated changes: {detail} were reformatted or edited although the migration does not "
        "require it.",
        ("unrelated",),
    ),
    JudgeRejection(
        "client-per-call",
        "The new client is created per call instead of once (connection pool per request) in {detail}; create it at "
        "start-up and reuse it.",
        ("create the logger once", "once at start-up"),
    ),
    JudgeRejection(
        "disabled-checks",
        "The agent disabled a check to get a green build ({detail}); the migration must keep the verifier's checks "
        "enabled.",
        ("do not use --force", "never delete or @disable"),
    ),
]

APPROVALS = (
    "The change does what the migration asks and nothing else; tests were migrated, not removed.",
    "Minimal, mechanical diff; the build and tests pass and the behaviour is unchanged.",
    "Looks good: dependency versions updated consistently and no test was weakened.",
    "The migration is complete and the diff is limited to the files it needs to touch.",
)

AGENT_ERRORS = (
    "MaxTurnsExceeded: the session reached 60 turns without finishing",
    "RateLimitError: Error code: 429 - {'type': 'error', 'error': {'type': 'rate_limit_error'}}",
    "TimeoutError: the session exceeded its 1800 s budget",
    "ContextWindowExceededError: prompt is too long: 212345 tokens > 200000 maximum",
    "CalledProcessError: git push exited with status 128 (remote: Permission to repository denied)",
)

VERIFY_COMMANDS = {
    "maven": ("mvn -B verify", "./mvnw -B -ntp verify"),
    "gradle": ("./gradlew build --no-daemon", "./gradlew check"),
    "npm": ("npm ci && npm run build && npm run lint && npm test", "npm test"),
    "pytest": ("pytest -q", "python -m pytest -q -p no:cacheprovider"),
    "go": ("go build ./... && go vet ./... && go test ./...", "go test ./..."),
    "cargo": ("cargo test --all-targets", "cargo build && cargo test"),
}

VERIFY_SECONDS = {
    "maven": (60, 420),
    "gradle": (60, 300),
    "npm": (30, 200),
    "pytest": (10, 200),
    "go": (10, 120),
    "cargo": (40, 300),
}
