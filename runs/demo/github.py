"""The demo's GitHub: a local fake GitHub serving the demo fleet's pull requests with varied, seeded states.

The dashboard then reads them through the normal client and sync code, exactly as it would read GitHub.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from datetime import UTC
from typing import Any

from runs.fleet.models import PullRequest
from runs.github.client import GitHubClient
from runs.github.links import parse_pr_url
from runs.github.models import PullRequestSyncRun
from runs.github.sync import pull_request_sync_run_inline

CHECK_NAMES = ("build", "test", "lint")
REVIEWERS = ("ana", "bo", "chen", "dara")
# Share of open pull requests nobody touched after the agent opened them.
LEFT_ALONE = 0.35


def _sha(url: str, seed: int) -> str:
    return hashlib.sha1(f"{seed}:{url}".encode()).hexdigest()


def _lifecycle(rng: random.Random, succeeded: bool) -> str:
    """draft (awaiting review), ready (approved or under review), merged or closed."""
    roll = rng.random()
    if succeeded:
        return "draft" if roll < 0.62 else "ready" if roll < 0.78 else "merged" if roll < 0.92 else "closed"
    return "draft" if roll < 0.8 else "closed"


def _ci(rng: random.Random, lifecycle: str, succeeded: bool) -> str:
    if lifecycle == "merged":
        return "success"
    roll = rng.random()
    if succeeded:
        return "success" if roll < 0.7 else "pending" if roll < 0.85 else "failure"
    return "failure" if roll < 0.6 else "pending" if roll < 0.8 else "success"


def demo_github_populate(fake: Any, pull_requests: Iterable[PullRequest], *, seed: int) -> int:
    """Adds each pull request to a FakeGitHub with plausible state, CI and reviews; returns how many were added.

    Deterministic for a seed: each pull request draws from its own generator, keyed by seed and URL.
    """
    added = 0
    for pr in pull_requests:
        try:
            owner, repo, number = parse_pr_url(pr.url)
        except ValueError:
            continue
        succeeded = pr.attempt is not None and pr.attempt.outcome == "succeeded"
        rng = random.Random(f"{seed}:{pr.url}")
        lifecycle = _lifecycle(rng, succeeded)
        sha = _sha(pr.url, seed)
        mergeable_roll = rng.random()
        fake.add_pull(
            owner,
            repo,
            number,
            state={"merged": "merged", "closed": "closed"}.get(lifecycle, "open"),
            draft=lifecycle == "draft",
            mergeable=None if mergeable_roll < 0.05 else mergeable_roll > 0.12,
            mergeable_state="clean" if mergeable_roll > 0.12 else "dirty",
            head_sha=sha,
            title=f"{pr.migration.title if pr.migration_id else 'Migration'} for {repo}"[:200],
        )
        ci = _ci(rng, lifecycle, succeeded)
        for index, name in enumerate(CHECK_NAMES):
            if ci == "pending" and index == len(CHECK_NAMES) - 1:
                fake.add_check_run(owner, repo, sha, name=name, status="in_progress")
            elif ci == "failure" and index == 1:
                fake.add_check_run(owner, repo, sha, name=name, conclusion="failure")
            else:
                fake.add_check_run(owner, repo, sha, name=name, conclusion="success")
        if rng.random() < 0.3:  # some repositories also report an external CI as a commit status
            fake.add_status(owner, repo, sha, context="ci/jenkins", state="failure" if ci == "failure" else "success")
        if lifecycle in {"ready", "merged"}:
            state = "APPROVED" if lifecycle == "merged" or rng.random() < 0.7 else "CHANGES_REQUESTED"
            fake.add_review(owner, repo, number, user=rng.choice(REVIEWERS), state=state)
        elif rng.random() < 0.2:
            fake.add_review(owner, repo, number, user=rng.choice(REVIEWERS), state="COMMENTED")
        ended = pr.attempt.ended_at if pr.attempt is not None else None
        if lifecycle in {"draft", "ready"} and ended is not None and rng.random() < LEFT_ALONE:
            # Nobody has touched it since the agent opened it: the team inbox flags it as stale.
            fake.set_updated_at(owner, repo, number, ended.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        added += 1
    return added


def demo_github_start(*, seed: int = 7) -> tuple[Any, int]:
    """Starts a fake GitHub on loopback holding every pull request in the database; (fake, count)."""
    from runs.demo.fake_github import FakeGitHub  # the demo serves the same fake the tests use

    fake = FakeGitHub().start()
    prs = PullRequest.objects.select_related("attempt", "migration").order_by("id")
    return fake, demo_github_populate(fake, prs.iterator(chunk_size=500), seed=seed)


def demo_github_sync(*, base_url: str) -> PullRequestSyncRun:
    """Reads every demo pull request from the fake GitHub at `base_url` through the normal sync code."""

    return pull_request_sync_run_inline(trigger="demo", client=GitHubClient(base_url=base_url, timeout=10))
