"""The deterministic plan of the demo fleet: teams, repositories, migrations and every attempt."""

import random

from runs.demo.buildlogs_js_native import render_no_tests, render_passing
from runs.demo.entities import DemoAttempt, DemoFleet, DemoLLMCall, DemoMigration, DemoRepo, DemoTeam, DemoVerifyCall
from runs.demo.failures import CAUSES_BY_KEY, FailureCause, causes_for
from runs.demo.migrations import AGENT_ERRORS, APPROVALS, JUDGE_REJECTIONS, MIGRATIONS, VERIFY_COMMANDS, VERIFY_SECONDS

DAY_MS = 24 * 3600 * 1000
HOUR_MS = 3600 * 1000
WINDOW_DAYS = 14

TEAMS: list[DemoTeam] = [
    DemoTeam("payments", "Payments", "payments"),
    DemoTeam("checkout", "Checkout", "checkout"),
    DemoTeam("identity", "Identity & Access", "identity"),
    DemoTeam("platform", "Platform Engineering", "platform"),
    DemoTeam("search", "Search & Discovery", "search"),
    DemoTeam("data-platform", "Data Platform", "data"),
    DemoTeam("notifications", "Notifications", "notify"),
    DemoTeam("mobile-backend", "Mobile Backend", "mobile"),
    DemoTeam("growth", "Growth", "growth"),
    DemoTeam("logistics", "Logistics", "logistics"),
    DemoTeam("risk", "Risk & Fraud", "risk"),
    DemoTeam("billing", "Billing", "billing"),
    DemoTeam("observability", "Observability", "observability"),
    DemoTeam("developer-experience", "Developer Experience", "devex"),
]

# Build system, language, weight in the fleet, and the name suffixes such repositories tend to have.
STACKS = (
    ("maven", "Java", 30, ("service", "api", "worker", "batch", "gateway")),
    ("gradle", "Kotlin", 15, ("service", "api", "consumer", "sync")),
    ("npm", "TypeScript", 25, ("ui", "web", "bff", "portal", "sdk")),
    ("pytest", "Python", 15, ("jobs", "etl", "tools", "service", "ml")),
    ("go", "Go", 10, ("proxy", "agent", "operator", "cli")),
    ("cargo", "Rust", 5, ("engine", "indexer", "router")),
)

NAME_WORDS = (
    "ledger",
    "invoice",
    "refund",
    "wallet",
    "payout",
    "fx",
    "cart",
    "order",
    "promo",
    "pricing",
    "login",
    "sso",
    "token",
    "consent",
    "profile",
    "catalog",
    "query",
    "ranking",
    "autocomplete",
    "feature",
    "event",
    "stream",
    "warehouse",
    "lineage",
    "email",
    "push",
    "sms",
    "inbox",
    "device",
    "app-config",
    "referral",
    "experiment",
    "shipment",
    "routing",
    "tracking",
    "dispatch",
    "fraud",
    "score",
    "kyc",
    "chargeback",
    "subscription",
    "tax",
    "usage",
    "metrics",
    "alerting",
    "tracing",
    "logs",
    "build",
    "ci",
    "scaffold",
    "docs",
    "release",
)

BASELINE_FAILURE_RATE = 0.065
# Repositories whose verifier passes without running a test (no tests written, or none the build finds): their
# passes are "unverifiable" and reach reviewers marked for a careful review.
NO_TESTS_RATE = 0.05


def _make_repos(rng: random.Random, count: int) -> list[DemoRepo]:
    repos, seen = [], set()
    weights = [stack[2] for stack in STACKS]
    while len(repos) < count:
        team = TEAMS[len(repos) % len(TEAMS)] if len(repos) < len(TEAMS) else rng.choice(TEAMS)
        build, language, _, suffixes = rng.choices(STACKS, weights=weights)[0]
        owner = team.domain if rng.random() < 0.65 else "acme"
        name = f"{rng.choice(NAME_WORDS)}-{rng.choice(suffixes)}"
        if (owner, name) in seen:
            name = f"{rng.choice(NAME_WORDS)}-{name}"
        if (owner, name) in seen:
            continue
        seen.add((owner, name))
        repos.append(DemoRepo(owner=owner, name=name, team=team.slug, build=build, language=language))
    return repos


def _prompt_mentions(prompt_lower: str, keywords: tuple[str, ...]) -> bool:
    return any(keyword in prompt_lower for keyword in keywords)


def _render_failure(rng: random.Random, repo: DemoRepo, cause: FailureCause, command: str, kind: str) -> DemoVerifyCall:
    return DemoVerifyCall(kind, command, False, cause.render(rng, repo), 1, cause.key, _verify_seconds(rng, repo))


def has_no_tests(repo: DemoRepo) -> bool:
    """Whether the repository's build runs no test at all; fixed per repository."""
    return random.Random(f"no-tests/{repo.full_name}").random() < NO_TESTS_RATE


def _render_pass(rng: random.Random, repo: DemoRepo, command: str, kind: str) -> DemoVerifyCall:
    render = render_no_tests if has_no_tests(repo) else render_passing
    return DemoVerifyCall(kind, command, True, render(rng, repo), 0, "", _verify_seconds(rng, repo))


def _verify_seconds(rng: random.Random, repo: DemoRepo) -> float:
    low, high = VERIFY_SECONDS[repo.build]
    return round(rng.uniform(low, high), 3)


def sticky_cause(repo: DemoRepo, migration: DemoMigration, causes: list[FailureCause]) -> FailureCause:
    # The repository's own weak spot for this migration: retries tend to hit the same wall.
    local = random.Random(f"sticky/{migration.slug}/{repo.full_name}")
    return local.choices(causes, weights=[c.weight(migration.slug) for c in causes])[0]


def simulate_attempt(
    *,
    repo: DemoRepo,
    migration: DemoMigration,
    prompt_text: str,
    attempt: int,
    rng: random.Random,
    prompt_rev: int | None = None,
    started_at_ms: int = 0,
) -> DemoAttempt:
    """Simulate one agent session; causes whose fix the prompt mentions now mostly pass."""
    lower = prompt_text.lower()
    causes = [c for c in causes_for(repo.build) if not c.infra]
    infra = [c for c in causes_for(repo.build) if c.infra]
    base = [c.weight(migration.slug) for c in causes]
    adjusted = [
        w * (0.12 if _prompt_mentions(lower, c.fix_keywords) else 1.0) for c, w in zip(causes, base, strict=True)
    ]
    retry_factor = 1.6 if attempt > 1 else 1.0
    p_fail = migration.failure_rate * retry_factor * sum(adjusted) / sum(base)
    rejections = [(r, 0.15 if _prompt_mentions(lower, r.fix_keywords) else 1.0) for r in JUDGE_REJECTIONS]
    p_judge = 0.07 * retry_factor * sum(w for _, w in rejections) / len(rejections)
    thresholds = (
        ("no_change", 0.03),
        ("agent_error", 0.035),
        ("infra", 0.035 if infra else 0.0),
        ("verify_failed", p_fail),
        ("judge_rejected", p_judge),
    )
    roll, outcome = rng.random(), "succeeded"
    for name, p in thresholds:
        if roll < p:
            outcome = name
            break
        roll -= p

    kind = repo.build
    command = rng.choice(VERIFY_COMMANDS[repo.build])
    result = DemoAttempt(
        migration=migration,
        repo=repo,
        phase="migration",
        number=attempt,
        prompt_rev=prompt_rev,
        prompt_text=prompt_text,
        outcome="verify_failed" if outcome == "infra" else outcome,
        started_at_ms=started_at_ms,
        verify_shape=rng.choices(("verify", "mcp", "bash"), weights=(45, 30, 25))[0],
    )

    def any_cause() -> FailureCause:
        return rng.choices(causes, weights=adjusted)[0]

    calls: list[DemoVerifyCall] = []
    if outcome in ("succeeded", "judge_rejected"):
        for _ in range(rng.choice((0, 0, 1, 1, 2)) if outcome == "succeeded" else rng.choice((0, 1))):
            calls.append(_render_failure(rng, repo, any_cause(), command, kind))
        calls.append(_render_pass(rng, repo, command, kind))
    elif outcome in ("verify_failed", "infra"):
        for _ in range(rng.choice((0, 1, 1, 2))):
            calls.append(_render_failure(rng, repo, any_cause(), command, kind))
        if outcome == "infra":
            final = rng.choice(infra)
        else:
            sticky = sticky_cause(repo, migration, causes)
            fixed = _prompt_mentions(lower, sticky.fix_keywords)
            final = sticky if rng.random() < (0.15 if fixed else 0.6) else any_cause()
        calls.append(_render_failure(rng, repo, final, command, kind))
    elif outcome == "no_change":
        calls.append(_render_pass(rng, repo, command, kind))
    elif rng.random() < 0.5:
        calls.append(_render_pass(rng, repo, command, kind))
    result.verify_calls = calls

    turns = min(12, 3 + int(rng.expovariate(0.55)) + max(0, len(calls) - 1))
    tokens = rng.randint(3000, 9000)
    for turn in range(turns):
        tokens += rng.randint(800, 6000)
        summary = rng.choice(
            (
                "read the build file",
                "edit test sources",
                "run the verifier",
                "read the failure",
                "fix imports",
                "update dependencies",
                "write the PR description",
            )
        )
        result.llm_calls.append(
            DemoLLMCall(
                migration.model,
                tokens,
                rng.randint(120, 2600),
                round(rng.uniform(2.5, 40.0), 3),
                f"turn {turn + 1}: {summary}",
            )
        )

    if result.outcome == "succeeded":
        result.judge = ("approve", rng.choice(APPROVALS))
    elif result.outcome == "judge_rejected":
        rejection = rng.choices([r for r, _ in rejections], weights=[w for _, w in rejections])[0]
        detail = _rejection_detail(rng, repo, rejection.key)
        result.judge = (rejection.verdict, rejection.rationale.format(detail=detail))
    if result.judge and rng.random() < 0.12:
        result.judge_as_assessment = True
    if result.outcome == "succeeded" or (result.outcome == "judge_rejected" and rng.random() < 0.5):
        result.pr_url = f"https://github.com/{repo.full_name}/pull/{rng.randint(40, 4200)}"
    if result.outcome == "agent_error":
        result.error_message = rng.choice(AGENT_ERRORS)
        result.error_via_tag = rng.random() < 0.3
    return result


def _rejection_detail(rng: random.Random, repo: DemoRepo, key: str) -> str:
    if key == "deleted-tests":
        return f"{rng.randint(2, 14)} test methods in {rng.choice(('src/test', 'tests', 'internal'))}/{rng.choice(NAME_WORDS)}"
    if key == "unrelated-changes":
        return f"{rng.randint(3, 40)} files outside the migration's scope (README.md, CI workflow)"
    if key == "client-per-call":
        return f"{repo.name}'s {rng.choice(('request handler', 'HTTP middleware', 'consumer loop'))}"
    return rng.choice(
        (
            "-DskipTests in the CI workflow",
            "--legacy-peer-deps in .npmrc",
            "an eslint-disable comment on the whole file",
        )
    )


def simulate_baseline(
    *, repo: DemoRepo, migration: DemoMigration, rng: random.Random, started_at_ms: int
) -> DemoAttempt:
    """Verify the untouched repository before the agent changes anything; some fail already."""
    command = rng.choice(VERIFY_COMMANDS[repo.build])
    if rng.random() < BASELINE_FAILURE_RATE:
        # Pre-existing failures are mostly flaky tests and infrastructure, rarely compile errors.
        causes = causes_for(repo.build)
        weights = [3.0 if c.infra or "test" in c.key or "assertion" in c.key else 0.7 for c in causes]
        call = _render_failure(rng, repo, rng.choices(causes, weights=weights)[0], command, repo.build)
    else:
        call = _render_pass(rng, repo, command, repo.build)
    return DemoAttempt(
        migration=migration,
        repo=repo,
        phase="baseline",
        number=1,
        prompt_rev=None,
        prompt_text="",
        outcome="succeeded" if call.passed else "verify_failed",
        started_at_ms=started_at_ms,
        verify_shape="verify",
        verify_calls=[call],
    )


def _targets(rng: random.Random, migration: DemoMigration, repos: list[DemoRepo]) -> list[DemoRepo]:
    eligible = [r for r in repos if r.build in migration.builds]
    if migration.slug == "structured-logging":
        # Every non-JVM service adopts it; half the JVM ones, so each repository is in some migration.
        return [r for r in eligible if r.build not in ("maven", "gradle", "npm") or rng.random() < 0.45]
    if migration.slug == "log4j2-upgrade":
        return [r for r in eligible if rng.random() < 0.7]
    return eligible


def _rev_at(migration: DemoMigration, start_ms: int, at_ms: int) -> int:
    span = WINDOW_DAYS * DAY_MS // (len(migration.prompts) + 1)
    return min(len(migration.prompts), 1 + max(0, at_ms - start_ms) // span)


def fleet_plan(*, seed: int = 7, repo_count: int = 320, anchor_ms: int) -> DemoFleet:
    """Plan the whole fleet for a seed; attempts end before anchor_ms (a UNIX time in ms)."""
    rng = random.Random(seed)
    repos = _make_repos(rng, repo_count)
    window_start = anchor_ms - WINDOW_DAYS * DAY_MS
    attempts: list[DemoAttempt] = []
    for index, migration in enumerate(MIGRATIONS):
        start = window_start + index * DAY_MS // 2
        for repo in _targets(rng, migration, repos):
            local = random.Random(f"{seed}/{migration.slug}/{repo.full_name}")
            at = start + local.randint(0, 2 * DAY_MS)
            attempts.append(simulate_baseline(repo=repo, migration=migration, rng=local, started_at_ms=at))
            at += local.randint(HOUR_MS, 8 * DAY_MS)
            for number in (1, 2, 3):
                if at > anchor_ms - 2 * HOUR_MS:
                    break
                rev = _rev_at(migration, start, at)
                attempt = simulate_attempt(
                    repo=repo,
                    migration=migration,
                    prompt_text=migration.prompt(rev),
                    attempt=number,
                    rng=local,
                    prompt_rev=rev,
                    started_at_ms=at,
                )
                attempts.append(attempt)
                if attempt.outcome in ("succeeded", "no_change") or local.random() < 0.6:
                    break
                at += local.randint(6 * HOUR_MS, 3 * DAY_MS)
    attempts += _damaged(rng, attempts)
    return DemoFleet(seed=seed, teams=list(TEAMS), repos=repos, migrations=list(MIGRATIONS), attempts=attempts)


def _damaged(rng: random.Random, attempts: list[DemoAttempt]) -> list[DemoAttempt]:
    """A few traces the importer must report rather than guess: no repo, a verify output that is not JSON, no tags."""
    migrated = [a for a in attempts if a.phase == "migration"]
    damaged = []
    for damage in ("no_repo", "bad_json", "untagged"):
        source = rng.choice(migrated)
        copy = DemoAttempt(**{**source.__dict__, "damage": damage, "number": source.number + 10})
        if damage == "bad_json":
            copy.verify_shape = "verify"
            copy.outcome = "verify_failed"
            cause = CAUSES_BY_KEY[rng.choice([c.key for c in causes_for(source.repo.build)])]
            copy.verify_calls = [
                _render_failure(
                    rng,
                    source.repo,
                    cause,
                    source.verify_calls[0].command if source.verify_calls else "",
                    source.repo.build,
                )
            ]
        damaged.append(copy)
    return damaged
