"""The fleet `bench_pages` seeds: at scale 1, 40 migrations over 10,000 repositories, 500,000 attempts,
1,000,000 verifier results and 5,000 clusters, written one migration at a time (COPY on PostgreSQL, batched
bulk inserts elsewhere; see `_bulk_rows`).

Each migration gets one attempt per repository and a second one for a quarter of them (a rerun), two
verifier results per attempt, targets, pull requests for the passing ones (some waiting for review),
clusters of skewed sizes over its failures, and audit events; the first migration also gets a rerun
batch of 1,000 items. Rows are built with their keys set, so only one migration's rows are in memory.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from runs.management.commands._bulk_rows import RowWriter

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


@dataclass
class _Latest:
    """What the rows after an attempt need of a repository's latest attempt."""

    pk: int
    repository_id: int
    number: int
    outcome: str
    ended_at: object
    trace_id: str


def seed(*, scale: float, migrations: int = 40, seed: int = 1, progress=print) -> Seeded:
    from runs.fleet.models import Repository, Team

    rng = random.Random(seed)
    out = Seeded()
    writer = RowWriter()
    teams = list(writer.ids(Team, 200))
    writer.write(Team, (Team(pk=pk, slug=f"team-{i:03d}", name=f"Team {i}") for i, pk in enumerate(teams)))
    repos = list(writer.ids(Repository, max(1, round(10_000 * scale))))
    writer.write(
        Repository,
        (
            Repository(pk=pk, full_name=f"org/service-{i:05d}", team_id=teams[i % len(teams)] if i % 7 else None)
            for i, pk in enumerate(repos)
        ),
    )
    out.repositories = len(repos)
    clusters_each = max(1, round(5_000 * scale / migrations))
    for index in range(migrations):
        _seed_migration(rng, writer, out, index, repos, clusters_each)
        if progress and (index + 1) % 5 == 0:
            progress(f"  seeded {index + 1}/{migrations} migrations: {out}")
    writer.finish()
    # As an import and clustering leave them when they finish: each migration's and each cluster's counts kept.
    from runs.dashboards.counts import migration_counts_refresh
    from triage.clusters.counts import cluster_counts_refresh_migrations

    migration_counts_refresh()
    cluster_counts_refresh_migrations(migration_ids=None)
    return out


def _seed_migration(rng, writer: RowWriter, out: Seeded, index: int, repos: list[int], clusters_each: int) -> None:
    from runs.fleet.models import Migration, PromptRevision

    now = timezone.now()
    migration = Migration.objects.create(slug=f"bench-{index}", title=f"Benchmark migration {index}")
    revisions = PromptRevision.objects.bulk_create(
        PromptRevision(migration=migration, number=n, text=f"prompt {n}") for n in (1, 2, 3)
    )
    attempts, latest = _attempts(rng, writer, out, migration, repos, [r.pk for r in revisions], now)
    failed = _results_and_targets(rng, writer, out, migration, attempts, latest)
    largest = _clusters(rng, writer, out, migration, latest, failed, clusters_each, now)
    _audit(writer, out, migration, count=500)
    if index == 0:
        out.first_slug = migration.slug
        out.largest_cluster_id = largest
        out.attempt_trace_id = latest[1].trace_id
        out.rerun_batch_id = _rerun_batch(writer, migration, latest, failed)


def _attempts(rng, writer, out, migration, repos, revisions, now) -> tuple[list[tuple[int, str]], list[_Latest]]:
    """One attempt per repository, a second for every fourth one; returns (id, outcome) of every attempt and the
    latest attempt of each repository."""
    from runs.fleet.models import Attempt, Outcome

    outcomes = [Outcome.SUCCEEDED, Outcome.VERIFY_FAILED, Outcome.VERIFY_FAILED, Outcome.JUDGE_REJECTED]
    ids = iter(writer.ids(Attempt, sum(2 if i % 4 == 0 else 1 for i in range(len(repos)))))
    rows, latest = [], []
    for r_index, repo in enumerate(repos):
        for number in (1, 2) if r_index % 4 == 0 else (1,):
            ended = now - timedelta(days=rng.uniform(0, 60))
            attempt = Attempt(
                pk=next(ids),
                trace_id=f"tr-{migration.pk}-{r_index}-{number}",
                experiment_id="1",
                migration=migration,
                repository_id=repo,
                number=number,
                prompt_revision_id=revisions[rng.randrange(3)],
                outcome=rng.choice(outcomes),
                started_at=ended - timedelta(minutes=15),
                ended_at=ended,
                duration_ms=900_000,
                llm_calls=12,
                span_tree=SPAN_TREE,
            )
            rows.append(attempt)
        latest.append(_Latest(attempt.pk, repo, number, attempt.outcome, attempt.ended_at, attempt.trace_id))
    out.attempts += writer.write(Attempt, rows)
    return [(a.pk, a.outcome) for a in rows], latest


def _results_and_targets(rng, writer, out, migration, attempts, latest: list[_Latest]) -> list[tuple[int, int, str]]:
    """Two verifier results per attempt, targets, judge verdicts and pull requests; returns the failed results of
    latest attempts as (result id, attempt id, snippet)."""
    from runs.fleet.models import JudgeVerdict, Outcome, PullRequest, Target, VerifierResult

    result_ids = iter(writer.ids(VerifierResult, 2 * len(attempts)))
    latest_ids = {a.pk for a in latest}
    verdict_ids = iter(writer.ids(JudgeVerdict, sum(1 for _, o in attempts if o != Outcome.VERIFY_FAILED)))
    results, verdicts, failed = [], [], []
    for attempt_id, outcome in attempts:
        is_failed = outcome == Outcome.VERIFY_FAILED
        cause = rng.choice(CAUSES)
        results.append(
            VerifierResult(
                pk=next(result_ids), attempt_id=attempt_id, position=1, kind="maven", passed=True, output="ok"
            )
        )
        second = VerifierResult(
            pk=next(result_ids),
            attempt_id=attempt_id,
            position=2,
            kind=rng.choice(["maven", "gradle", "npm", "pytest"]),
            passed=not is_failed,
            output=f"[INFO] build\n[ERROR] {cause}\n" * 20 if is_failed else "ok",
            snippet=f"[ERROR] {cause}" if is_failed else "",
        )
        results.append(second)
        if is_failed and attempt_id in latest_ids:
            failed.append((second.pk, attempt_id, second.snippet))
        if not is_failed:
            verdict = "approve" if outcome == Outcome.SUCCEEDED else "reject"
            verdicts.append(JudgeVerdict(pk=next(verdict_ids), attempt_id=attempt_id, verdict=verdict))
    out.verifier_results += writer.write(VerifierResult, results)
    writer.write(JudgeVerdict, verdicts)
    passing = [a for a in latest if a.outcome == Outcome.SUCCEEDED]
    writer.write(
        PullRequest,
        (
            PullRequest(
                pk=pk,
                url=f"https://github.com/org/{attempt.repository_id}/pull/{attempt.pk}",
                repository_id=attempt.repository_id,
                migration=migration,
                attempt_id=attempt.pk,
                attempt_ready=True,
                number=attempt.pk,
                state=rng.choice(["open", "open", "merged", "closed"]),
                draft=rng.random() < 0.3,
                checks=rng.choice(["success", "failure", "pending"]),
                review=rng.choice(["review_required", "approved", ""]),
                updated_at=attempt.ended_at,
            )
            for pk, attempt in zip(writer.ids(PullRequest, len(passing)), passing, strict=True)
        ),
    )
    writer.write(
        Target,
        (
            Target(
                pk=pk,
                migration=migration,
                repository_id=attempt.repository_id,
                state=attempt.outcome,
                latest_attempt_id=attempt.pk,
                attempts_count=attempt.number,
                last_activity_at=attempt.ended_at,
                pre_existing_failure=attempt.pk % 23 == 0,
            )
            for pk, attempt in zip(writer.ids(Target, len(latest)), latest, strict=True)
        ),
    )
    return failed


def _clusters(rng, writer, out, migration, latest, failed, count, now) -> int:
    """Clusters of skewed sizes over the failed results, sizes set as they are written; returns the largest's id."""
    from triage.clusters.models import ClusterMember, FailureCluster

    cluster_ids = list(writer.ids(FailureCluster, count))
    statuses = [rng.choice(FailureCluster.Status.values) for _ in cluster_ids]
    repo_of = {attempt.pk: attempt.repository_id for attempt in latest}
    sizes = dict.fromkeys(cluster_ids, 0)
    members = []
    for (result_id, attempt_id, snippet), pk in zip(failed, writer.ids(ClusterMember, len(failed)), strict=True):
        # Skewed sizes, like real failure clusters: a few large, many small.
        cluster_id = cluster_ids[min(int(rng.paretovariate(1.2)) - 1, len(cluster_ids) - 1)]
        sizes[cluster_id] += 1
        members.append(
            ClusterMember(
                pk=pk,
                cluster_id=cluster_id,
                migration_id=migration.pk,
                attempt_id=attempt_id,
                verifier_result_id=result_id,
                repository_id=repo_of[attempt_id],
                why="similar",
                snippet=snippet,
                joined_at=now,
            )
        )
    writer.write(
        FailureCluster,
        (
            FailureCluster(
                pk=pk,
                migration=migration,
                title=f"{CAUSES[i % len(CAUSES)]} #{i}",
                status=statuses[i],
                example_snippet=f"[ERROR] {CAUSES[i % len(CAUSES)]}",
                first_seen_at=now - timedelta(days=60),
                last_seen_at=now,
                size=sizes[pk],
                repos=sizes[pk],
                agent_failures=sizes[pk],
            )
            for i, pk in enumerate(cluster_ids)
        ),
    )
    out.members += writer.write(ClusterMember, members)
    out.clusters += len(cluster_ids)
    return max(cluster_ids, key=lambda pk: (sizes[pk], -pk))


def _audit(writer, out, migration, *, count: int) -> None:
    from runs.fleet.models import AuditEvent

    out.audit_events += writer.write(
        AuditEvent,
        (
            AuditEvent(
                pk=pk,
                actor_name="bench",
                verb="cluster.status_changed",
                target_type="cluster",
                target_id=str(i),
                target_label=f"cluster {i}",
                migration=migration,
                data={"to": "acknowledged"},
            )
            for i, pk in enumerate(writer.ids(AuditEvent, count))
        ),
    )


def _rerun_batch(writer, migration, latest, failed) -> int:
    """A finished rerun batch of (up to) 1,000 items, as its page shows one."""
    from runs.reruns.models import RerunBatch, RerunItem, RerunOutcome, RerunState

    now = timezone.now()
    batch = RerunBatch.objects.create(migration=migration, runner="command", finished_at=now)
    failed_attempts = {attempt_id for _, attempt_id, _ in failed}
    picked = [a for a in latest if a.pk in failed_attempts][:1000]
    outcomes = [RerunOutcome.FIXED, RerunOutcome.STILL_FAILING, RerunOutcome.NEW_FAILURE]
    writer.write(
        RerunItem,
        (
            RerunItem(
                pk=pk,
                batch=batch,
                migration=migration,
                repository_id=a.repository_id,
                source_attempt_id=a.pk,
                state=RerunState.SUCCEEDED,
                outcome=outcomes[i % 3],
                tries=1,
                exit_code=0,
                dispatched_at=now,
                finished_at=now,
            )
            for i, (pk, a) in enumerate(zip(writer.ids(RerunItem, len(picked)), picked, strict=True))
        ),
    )
    return batch.pk
