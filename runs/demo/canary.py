"""Rerun sessions for the demo whose result follows the prompt, so a canary visibly passes or fails.

A repository keeps failing on its own weak spot (its sticky cause): a rerun whose prompt names that cause's
fix passes nine times in ten, one whose prompt does not fails on the same cause again nine times in ten.
Rerun a cluster with a prompt naming its fix and its canary expands; rerun another with the prompt unchanged
and its canary pauses with "n of m fixed, below x%". The sessions themselves are the fleet's simulation
(`simulate_attempt`), drawn until one matches, so their traces look like every other demo session.
"""

from __future__ import annotations

import random

from runs.demo.entities import DemoAttempt, DemoMigration, DemoRepo
from runs.demo.failures import FailureCause, causes_for
from runs.demo.fleet import simulate_attempt, sticky_cause

PASS_WHEN_FIXED = 0.9
PASS_WHEN_NOT = 0.1
# Draws of the simulation before settling for the last one; a match comes within a few.
DRAWS = 80


def weak_spot(repo: DemoRepo, migration: DemoMigration) -> FailureCause | None:
    """The cause this repository's failures of the migration come back to."""
    causes = [c for c in causes_for(repo.build) if not c.infra]
    return sticky_cause(repo, migration, causes) if causes else None


def prompt_fixes(prompt_text: str, cause: FailureCause | None) -> bool:
    lower = prompt_text.lower()
    return cause is not None and any(keyword in lower for keyword in cause.fix_keywords)


def _matches(attempt: DemoAttempt, *, passes: bool, cause: FailureCause | None) -> bool:
    if passes:
        return attempt.outcome == "succeeded"
    if attempt.outcome != "verify_failed" or not attempt.verify_calls:
        return False
    return cause is None or attempt.verify_calls[-1].cause == cause.key


def rerun_attempt(
    *,
    repo: DemoRepo,
    migration: DemoMigration,
    prompt_text: str,
    attempt: int,
    rng: random.Random,
    prompt_rev: int | None = None,
) -> DemoAttempt:
    """One simulated rerun session: passes when the prompt fixes the repository's weak spot (mostly), else
    fails on it again (mostly). Deterministic for a given `rng` seed."""
    cause = weak_spot(repo, migration)
    passes = rng.random() < (PASS_WHEN_FIXED if prompt_fixes(prompt_text, cause) else PASS_WHEN_NOT)
    candidate = None
    for _ in range(DRAWS):
        candidate = simulate_attempt(
            repo=repo,
            migration=migration,
            prompt_text=prompt_text,
            attempt=attempt,
            rng=random.Random(rng.random()),
            prompt_rev=prompt_rev,
        )
        if _matches(candidate, passes=passes, cause=cause):
            break
    assert candidate is not None
    return candidate
