"""The demo's rerun sessions follow the prompt, so one cluster's canary passes and another's pauses."""

import random

from runs.demo.canary import rerun_attempt, weak_spot
from runs.demo.migrations import MIGRATIONS
from runs.reruns.runners.demo import demo_repo


def test_a_prompt_naming_the_repositorys_fix_mostly_passes_and_an_unchanged_one_mostly_fails_the_same_way():
    migration = MIGRATIONS[0]
    with_fix = without = same_cause = 0
    for i in range(30):
        repo = demo_repo(f"acme/demo-{i}", build="maven")
        cause = weak_spot(repo, migration)
        fixed = rerun_attempt(
            repo=repo,
            migration=migration,
            prompt_text=f"Migrate. {cause.fix_keywords[0]}",
            attempt=2,
            rng=random.Random(f"try-{i}"),
        )
        unchanged = rerun_attempt(
            repo=repo, migration=migration, prompt_text="Migrate.", attempt=2, rng=random.Random(f"try-{i}")
        )
        with_fix += fixed.outcome == "succeeded"
        without += unchanged.outcome == "succeeded"
        same_cause += unchanged.outcome == "verify_failed" and unchanged.verify_calls[-1].cause == cause.key
    assert with_fix >= 24 and without <= 6 and same_cause >= 24
    # The same try simulates the same session.
    repo = demo_repo("acme/demo-0", build="maven")
    again = [
        rerun_attempt(repo=repo, migration=migration, prompt_text="Migrate.", attempt=2, rng=random.Random("k")).outcome
        for _ in range(2)
    ]
    assert again[0] == again[1]
