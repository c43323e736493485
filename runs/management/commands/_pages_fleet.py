"""The fleet `bench_pages` seeds: at scale 1, 40 migrations over 10,000 repositories, 500,000 attempts,
1,000,000 verifier results and 5,000 clusters, written one migration at a time with bulk inserts.

Each migration gets one attempt per repository and a second one for a quarter of them (a rerun), two
verifier results per attempt, targets, pull requests for the passing ones (some waiting for review),
clusters of skewed sizes over its failures, and audit events; the first migration also gets a rerun
batch of 1,000 items. Only the first migration's objects are kept in memory.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

CAUSES = [
    "cannot find symbol javax.annotation.Generated",
    "package javax.xml.bind does not exist",
    "error: release version 21 not supported",
    "Could not resolve dependencies for project",
    "npm ERR! peer dep missing: react@17",
    "ModuleNotFoundError: No module named 'distutils'",
    "test failed: expected <200> but was <500>",
    "lint: unused import",
]
SPAN_TREE = [
    {"id": "r", "parent": None, "name": "agent", "type": "AGENT", "depth": 0, "status": "OK", "duration_ms": 60000},
    {"id": "a", "parent": "r", "name": "llm", "type": "LLM", "depth": 1, "status": "OK", "duration_ms": 3000},
    {"id": "c", "parent": "r", "name": "verify", "type": "TOOL", "depth": 1, "status": "OK", "verifier": 1},
    {"id": "d", "parent": "r", "name": "verify", "type": "TOOL", "depth": 1, "status": "OK", "verifier": 2},
    {"id": "e", "parent": "r", "name": "judge", "type": "LLM", "depth": 1, "status": "OK", "judge": True},
]
BATCH = 5000


@dataclass
class Seeded:
    repositories: int = 0
    attempts: int = 0
    verifier_results: int = 0
    clusters: int = 0
    members: int = 0
    audit_events: int = 0
    first_slug: str = ""
    largest_cluster_id: int = 0
    attempt_trace_id: str = ""
    rerun_batch_id: int = 0

    def __str__(self) -> str:
        return (
            f"{self.repositories:,} repositories, {self.attempts:,} attempts, {self.verifier_results:,} verifier "
            f"results, {self.clusters:,} clusters, {self.members:,} cluster members, {self.audit_events:,} audit events"
        )


def seed(*, scale: float, migrations: int = 40, seed: int = 1, progress=print) -> Seeded:
    from runs.fleet.models import Repository, Team

    rng = random.Random(seed)
    out = Seeded()
    teams = Team.objects.bulk_create(Team(slug=f"team-{i:03d}", name=f"Team {i}") for i in range(200))
    repos = Repository.objects.bulk_create(
        (
            Repository(full_name=f"org/service-{i:05d}", team=teams[i % len(teams)] if i % 7 else None)
            for i in range(max(1, round(10_000 * scale)))
        ),
        batch_size=BATCH,
    )
    out.repositories = len(repos)
    clusters_each = max(1, round(5_000 * scale / migrations))
    for index in range(migrations):
        _seed_migration(rng, out, index, repos, clusters_each)
        if progress and (index + 1) % 5 == 0:
            progress(f"  seeded {index + 1}/{migrations} migrations: {out}")
    return out


def _seed_migration(rng, out: Seeded, index: int, repos, clusters_each: int) -> None:
    from runs.fleet.models import Migration, PromptRevision

    now = timezone.now()
    migration = Migration.objects.create(slug=f"bench-{index}", title=f"Benchmark migration {index}")
    revisions = PromptRevision.objects.bulk_create(
        PromptRevision(migration=migration, number=n, text=f"prompt {n}") for n in (1, 2, 3)
    )
    latest = _attempts(rng, out, migration, repos, revisions, now)
    failed = _results_and_targets(rng, out, migration, latest)
    clusters = _clusters(rng, out, migration, latest, failed, clusters_each, now)
    _audit(out, migration, now, count=500)
    if index == 0:
        out.first_slug = migration.slug
        out.largest_cluster_id = max(clusters, key=lambda c: c.size).pk
        out.attempt_trace_id = latest[1].trace_id
        out.rerun_batch_id = _rerun_batch(migration, latest, failed)


def _attempts(rng, out, migration, repos, revisions, now):
    """One attempt per repository, a second for every fourth one; returns the latest attempt of each."""
    from runs.fleet.models import Attempt, Outcome

    outcomes = [Outcome.SUCCEEDED, Outcome.VERIFY_FAILED, Outcome.VERIFY_FAILED, Outcome.JUDGE_REJECTED]
    rows = []
    for r_index, repo in enumerate(repos):
        for number in (1, 2) if r_index % 4 == 0 else (1,):
            ended = now - timedelta(days=rng.uniform(0, 60))
            rows.append(
                Attempt(
                    trace_id=f"tr-{migration.pk}-{r_index}-{number}",
                    experiment_id="1",
                    migration=migration,
                    repository=repo,
                    number=number,
                    prompt_revision=revisions[rng.randrange(3)],
                    outcome=rng.choice(outcomes),
                    started_at=ended - timedelta(minutes=15),
                    ended_at=ended,
                    duration_ms=900_000,
                    llm_calls=12,
                    span_tree=SPAN_TREE,
                )
            )
    rows = Attempt.objects.bulk_create(rows, batch_size=BATCH)
    out.attempts += len(rows)
    latest = {}
    for attempt in rows:
        latest[attempt.repository_id] = attempt
    return list(latest.values())


def _results_and_targets(rng, out, migration, latest):
    """Two verifier results per attempt, targets, judge verdicts and pull requests; returns failed results."""
    from runs.fleet.models import JudgeVerdict, Outcome, PullRequest, Target, VerifierResult

    attempts = migration.attempts.only("pk", "outcome", "repository_id", "ended_at")
    results, verdicts, prs = [], [], []
    for attempt in attempts.iterator(chunk_size=BATCH):
        is_failed = attempt.outcome == Outcome.VERIFY_FAILED
        cause = rng.choice(CAUSES)
        results.append(VerifierResult(attempt_id=attempt.pk, position=1, kind="maven", passed=True, output="ok"))
        results.append(
            VerifierResult(
                attempt_id=attempt.pk,
                position=2,
                kind=rng.choice(["maven", "gradle", "npm", "pytest"]),
                passed=not is_failed,
                output=f"[INFO] build\n[ERROR] {cause}\n" * 20 if is_failed else "ok",
                snippet=f"[ERROR] {cause}" if is_failed else "",
            )
        )
        if not is_failed:
            verdicts.append(
                JudgeVerdict(attempt_id=attempt.pk, verdict="approve" if attempt.outcome == "succeeded" else "reject")
            )
    results = VerifierResult.objects.bulk_create(results, batch_size=BATCH)
    out.verifier_results += len(results)
    JudgeVerdict.objects.bulk_create(verdicts, batch_size=BATCH)
    latest_ids = {a.pk for a in latest}
    failed = [r for r in results if not r.passed and r.attempt_id in latest_ids]
    for attempt in latest:
        if attempt.outcome == Outcome.SUCCEEDED:
            prs.append(
                PullRequest(
                    url=f"https://github.com/org/{attempt.repository_id}/pull/{attempt.pk}",
                    repository_id=attempt.repository_id,
                    migration=migration,
                    attempt=attempt,
                    number=attempt.pk,
                    state=rng.choice(["open", "open", "merged", "closed"]),
                    draft=rng.random() < 0.3,
                    checks=rng.choice(["success", "failure", "pending"]),
                    review=rng.choice(["review_required", "approved", ""]),
                    updated_at=attempt.ended_at,
                )
            )
    PullRequest.objects.bulk_create(prs, batch_size=BATCH)
    Target.objects.bulk_create(
        (
            Target(
                migration=migration,
                repository_id=attempt.repository_id,
                state=attempt.outcome,
                latest_attempt=attempt,
                attempts_count=attempt.number,
                last_activity_at=attempt.ended_at,
                pre_existing_failure=attempt.pk % 23 == 0,
            )
            for attempt in latest
        ),
        batch_size=BATCH,
    )
    return failed


def _clusters(rng, out, migration, latest, failed, count, now):
    from triage.clusters.models import ClusterMember, FailureCluster

    clusters = FailureCluster.objects.bulk_create(
        FailureCluster(
            migration=migration,
            title=f"{CAUSES[i % len(CAUSES)]} #{i}",
            status=rng.choice(FailureCluster.Status.values),
            example_snippet=f"[ERROR] {CAUSES[i % len(CAUSES)]}",
            first_seen_at=now - timedelta(days=60),
            last_seen_at=now,
        )
        for i in range(count)
    )
    sizes: dict[int, int] = {}
    members = []
    repo_of = {attempt.pk: attempt.repository_id for attempt in latest}
    for result in failed:
        # Skewed sizes, like real failure clusters: a few large, many small.
        cluster = clusters[min(int(rng.paretovariate(1.2)) - 1, len(clusters) - 1)]
        sizes[cluster.pk] = sizes.get(cluster.pk, 0) + 1
        members.append(
            ClusterMember(
                cluster=cluster,
                migration_id=migration.pk,
                attempt_id=result.attempt_id,
                verifier_result=result,
                repository_id=repo_of[result.attempt_id],
                why="similar",
                snippet=result.snippet,
                joined_at=now,
            )
        )
    ClusterMember.objects.bulk_create(members, batch_size=BATCH)
    for cluster in clusters:
        cluster.size = cluster.repos = cluster.agent_failures = sizes.get(cluster.pk, 0)
    FailureCluster.objects.bulk_update(clusters, ["size", "repos", "agent_failures"], batch_size=1000)
    out.clusters += len(clusters)
    out.members += len(members)
    return clusters


def _audit(out, migration, now, *, count: int) -> None:
    from runs.fleet.models import AuditEvent

    AuditEvent.objects.bulk_create(
        (
            AuditEvent(
                actor_name="bench",
                verb="cluster.status_changed",
                target_type="cluster",
                target_id=str(i),
                target_label=f"cluster {i}",
                migration=migration,
                data={"to": "acknowledged"},
            )
            for i in range(count)
        ),
        batch_size=BATCH,
    )
    out.audit_events += count


def _rerun_batch(migration, latest, failed) -> int:
    """A finished rerun batch of (up to) 1,000 items, as its page shows one."""
    from runs.reruns.models import RerunBatch, RerunItem, RerunOutcome, RerunState

    now = timezone.now()
    batch = RerunBatch.objects.create(migration=migration, runner="command", finished_at=now)
    failed_attempts = {r.attempt_id for r in failed}
    picked = [a for a in latest if a.pk in failed_attempts][:1000]
    outcomes = [RerunOutcome.FIXED, RerunOutcome.STILL_FAILING, RerunOutcome.NEW_FAILURE]
    RerunItem.objects.bulk_create(
        (
            RerunItem(
                batch=batch,
                migration=migration,
                repository_id=a.repository_id,
                source_attempt=a,
                state=RerunState.SUCCEEDED,
                outcome=outcomes[i % 3],
                tries=1,
                exit_code=0,
                dispatched_at=now,
                finished_at=now,
            )
            for i, a in enumerate(picked)
        ),
        batch_size=BATCH,
    )
    return batch.pk
