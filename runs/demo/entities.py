"""Plain dataclasses describing the demo fleet: teams, repositories, migrations and attempts."""

from dataclasses import dataclass, field

BUILDS = ("maven", "gradle", "npm", "pytest", "go", "cargo")


@dataclass(frozen=True)
class DemoTeam:
    """A team that owns repositories in the demo organisation."""

    slug: str
    display_name: str
    domain: str


@dataclass(frozen=True)
class DemoRepo:
    """A repository `owner/name`, its owning team and its build system."""

    owner: str
    name: str
    team: str
    build: str
    language: str

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def java_package(self) -> str:
        owner = "" if self.owner == "acme" else self.owner.replace("-", "") + "."
        return "com.acme." + owner + self.name.replace("-", "")

    @property
    def python_package(self) -> str:
        return self.name.replace("-", "_")

    @property
    def go_module(self) -> str:
        return f"github.com/{self.owner}/{self.name}"

    @property
    def crate(self) -> str:
        return self.name.replace("-", "_")


@dataclass(frozen=True)
class DemoMigration:
    """A change rolled out across the fleet, with its numbered prompt revisions."""

    slug: str
    title: str
    builds: tuple[str, ...]
    prompts: tuple[str, ...]
    failure_rate: float
    model: str

    def prompt(self, rev: int) -> str:
        return self.prompts[rev - 1]


@dataclass(frozen=True)
class DemoVerifyCall:
    """One verifier call: what ran, whether it passed, the log it printed."""

    kind: str
    command: str
    passed: bool
    output: str
    exit_code: int
    cause: str = ""
    duration_s: float = 60.0


@dataclass(frozen=True)
class DemoEdit:
    """One file edit of an agent session, as Claude Code's Edit, MultiEdit or Write tool takes it."""

    tool: str
    file_path: str
    old: str = ""
    new: str = ""
    content: str = ""
    edits: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class DemoLLMCall:
    """One chat-model call and its token counts."""

    model: str
    input_tokens: int
    output_tokens: int
    duration_s: float
    summary: str


@dataclass
class DemoAttempt:
    """One agent session (or one baseline verification) on one repository, as a trace will record it."""

    migration: DemoMigration
    repo: DemoRepo
    phase: str
    number: int
    prompt_rev: int | None
    prompt_text: str
    outcome: str
    started_at_ms: int
    verify_shape: str = "verify"
    verify_calls: list[DemoVerifyCall] = field(default_factory=list)
    llm_calls: list[DemoLLMCall] = field(default_factory=list)
    judge: tuple[str, str] | None = None
    judge_as_assessment: bool = False
    pr_url: str = ""
    error_message: str = ""
    error_via_tag: bool = False
    damage: str = ""
    edits: list[DemoEdit] = field(default_factory=list)

    @property
    def failure_cause(self) -> str:
        """The cause key of the last failing verifier call, or blank."""
        failing = [c.cause for c in self.verify_calls if not c.passed]
        return failing[-1] if failing and not self.verify_calls[-1].passed else ""

    def plan_key(self) -> tuple:
        """A comparable summary of everything the trace will hold, except ids."""
        return (
            self.migration.slug,
            self.repo.full_name,
            self.phase,
            self.number,
            self.prompt_rev,
            self.outcome,
            self.started_at_ms,
            self.verify_shape,
            tuple((c.kind, c.command, c.passed, c.exit_code, c.cause, c.output) for c in self.verify_calls),
            tuple((c.model, c.input_tokens, c.output_tokens) for c in self.llm_calls),
            self.judge,
            self.judge_as_assessment,
            self.pr_url,
            self.error_message,
            self.error_via_tag,
            self.damage,
            tuple(self.edits),
        )


@dataclass
class DemoFleet:
    """The whole demo: teams, repositories, migrations and every attempt to write."""

    seed: int
    teams: list[DemoTeam]
    repos: list[DemoRepo]
    migrations: list[DemoMigration]
    attempts: list[DemoAttempt]

    def __post_init__(self) -> None:
        # A retry that passed fixed what the attempt before it failed on: its trace shows those edits.
        from runs.demo.edits import retry_edits_attach

        retry_edits_attach(self.attempts)
