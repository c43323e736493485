"""`manage.py bench_pages`: server time of the main pages on a large seeded fleet, p50/p95 per page.

Seeds a throw-away test database on the configured server with bulk inserts (by default 10,000 repositories,
50,000 attempts, 100,000 verifier results, 500 clusters with their members), then requests each page repeatedly
with Django's test client as a logged-in user.
"""

import random
import statistics
import time
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client
from django.test.utils import override_settings, setup_test_environment, teardown_test_environment
from django.urls import reverse
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


class Command(BaseCommand):
    help = "Benchmark page server times on a large seeded fleet (p50/p95 per page)."

    def add_arguments(self, parser):
        parser.add_argument("--repos", type=int, default=10_000)
        parser.add_argument("--migrations", type=int, default=5)
        parser.add_argument("--clusters", type=int, default=500)
        parser.add_argument("--requests", type=int, default=20)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, **options):
        creation = connection.creation
        original = connection.settings_dict["NAME"]
        creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        setup_test_environment()
        try:
            started = time.perf_counter()
            counts, urls = _seed(random.Random(options["seed"]), options)
            self.stdout.write(
                f"seeded {counts} in {time.perf_counter() - started:.1f} s, database: {connection.vendor}"
            )
            with override_settings(ALLOWED_HOSTS=["*"], DEBUG=False):
                rows = self._measure(urls, options["requests"])
        finally:
            teardown_test_environment()
            creation.destroy_test_db(original, verbosity=0)
        self.stdout.write("")
        self.stdout.write(f"{'page':<28}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}  status")
        for name, p50, p95, worst, status in rows:
            self.stdout.write(f"{name:<28}{p50:>10.1f}{p95:>10.1f}{worst:>10.1f}  {status}")
        slow = [name for name, _, p95, _, _ in rows if p95 > 300]
        self.stdout.write("")
        self.stdout.write("goal p95 <= 300 ms per page: " + ("met" if not slow else "missed on " + ", ".join(slow)))

    def _measure(self, urls, repeats):
        from runs.accounts.services import user_with_role_create

        client = Client()
        client.force_login(user_with_role_create(username="bench", role="admin", password="bench-unused"))
        rows = []
        for name, url in urls:
            for _ in range(2):
                client.get(url)
            times = []
            status = None
            for _ in range(repeats):
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                status = response.status_code
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            rows.append((name, statistics.median(times), p95, times[-1], status))
        return rows


def _seed(rng, options):
    from runs.fleet.models import (
        Attempt,
        JudgeVerdict,
        Migration,
        Outcome,
        PromptRevision,
        PullRequest,
        Repository,
        Target,
        Team,
        VerifierResult,
    )
    from triage.clusters.models import ClusterMember, FailureCluster

    now = timezone.now()
    teams = Team.objects.bulk_create(Team(slug=f"team-{i:03d}", name=f"Team {i}") for i in range(200))
    repos = Repository.objects.bulk_create(
        Repository(full_name=f"org/service-{i:05d}", team=teams[i % len(teams)] if i % 7 else None)
        for i in range(options["repos"])
    )
    migrations = Migration.objects.bulk_create(
        Migration(slug=f"bench-{i}", title=f"Benchmark migration {i}") for i in range(options["migrations"])
    )
    revisions = PromptRevision.objects.bulk_create(
        PromptRevision(migration=m, number=n, text=f"prompt {n}") for m in migrations for n in (1, 2, 3)
    )
    outcomes = [Outcome.SUCCEEDED, Outcome.VERIFY_FAILED, Outcome.VERIFY_FAILED, Outcome.JUDGE_REJECTED]
    span_tree = [
        {"id": "r", "parent": None, "name": "agent", "type": "AGENT", "depth": 0, "status": "OK", "duration_ms": 60000},
        {"id": "a", "parent": "r", "name": "llm", "type": "LLM", "depth": 1, "status": "OK", "duration_ms": 3000},
        {"id": "b", "parent": "r", "name": "edit", "type": "TOOL", "depth": 1, "status": "OK", "duration_ms": 40},
        {"id": "c", "parent": "r", "name": "verify", "type": "TOOL", "depth": 1, "status": "OK", "verifier": 1},
        {"id": "d", "parent": "r", "name": "verify", "type": "TOOL", "depth": 1, "status": "OK", "verifier": 2},
        {"id": "e", "parent": "r", "name": "judge", "type": "LLM", "depth": 1, "status": "OK", "judge": True},
    ]
    attempts = []
    for m_index, migration in enumerate(migrations):
        for r_index, repo in enumerate(repos):
            ended = now - timedelta(days=rng.uniform(0, 60))
            attempts.append(
                Attempt(
                    trace_id=f"tr-{m_index}-{r_index}",
                    experiment_id="1",
                    migration=migration,
                    repository=repo,
                    prompt_revision=revisions[m_index * 3 + rng.randrange(3)],
                    outcome=rng.choice(outcomes),
                    started_at=ended - timedelta(minutes=15),
                    ended_at=ended,
                    duration_ms=900_000,
                    llm_calls=12,
                    span_tree=span_tree,
                )
            )
    attempts = Attempt.objects.bulk_create(attempts, batch_size=2000)
    results, verdicts, prs, targets = [], [], [], []
    for attempt in attempts:
        failed = attempt.outcome == Outcome.VERIFY_FAILED
        cause = rng.choice(CAUSES)
        results.append(VerifierResult(attempt=attempt, position=1, kind="maven", passed=True, output="ok"))
        results.append(
            VerifierResult(
                attempt=attempt,
                position=2,
                kind=rng.choice(["maven", "gradle", "npm", "pytest"]),
                passed=not failed,
                output=f"[INFO] build\n[ERROR] {cause}\n" * 20 if failed else "ok",
                snippet=f"[ERROR] {cause}" if failed else "",
            )
        )
        if attempt.outcome != Outcome.VERIFY_FAILED:
            approved = attempt.outcome == Outcome.SUCCEEDED
            verdicts.append(JudgeVerdict(attempt=attempt, verdict="approve" if approved else "reject"))
        if attempt.outcome == Outcome.SUCCEEDED:
            prs.append(
                PullRequest(
                    url=f"https://github.com/{attempt.repository.full_name}/pull/{attempt.pk}",
                    repository=attempt.repository,
                    migration=attempt.migration,
                    attempt=attempt,
                    number=attempt.pk,
                    state=rng.choice(["open", "merged", "closed"]),
                    checks=rng.choice(["success", "failure", "pending"]),
                    updated_at=attempt.ended_at,
                )
            )
        targets.append(
            Target(
                migration=attempt.migration,
                repository=attempt.repository,
                state=attempt.outcome,
                latest_attempt=attempt,
                attempts_count=1,
                last_activity_at=attempt.ended_at,
            )
        )
    results = VerifierResult.objects.bulk_create(results, batch_size=5000)
    JudgeVerdict.objects.bulk_create(verdicts, batch_size=5000)
    PullRequest.objects.bulk_create(prs, batch_size=5000)
    Target.objects.bulk_create(targets, batch_size=5000)

    per_migration = max(1, options["clusters"] // len(migrations))
    clusters = FailureCluster.objects.bulk_create(
        FailureCluster(
            migration=migration,
            title=f"{CAUSES[i % len(CAUSES)]} #{i}",
            status=rng.choice(FailureCluster.Status.values),
            example_snippet=f"[ERROR] {CAUSES[i % len(CAUSES)]}",
            first_seen_at=now - timedelta(days=60),
            last_seen_at=now,
        )
        for migration in migrations
        for i in range(per_migration)
    )
    by_migration: dict[int, list] = {}
    for cluster in clusters:
        by_migration.setdefault(cluster.migration_id, []).append(cluster)
    failed_results = [r for r in results if not r.passed]
    members, sizes = [], {}
    for result in failed_results:
        attempt = result.attempt
        group = by_migration[attempt.migration_id]
        # Skewed sizes, like real failure clusters: a few large, many small.
        cluster = group[min(int(rng.paretovariate(1.2)) - 1, len(group) - 1)]
        sizes[cluster.pk] = sizes.get(cluster.pk, 0) + 1
        members.append(
            ClusterMember(
                cluster=cluster,
                migration_id=attempt.migration_id,
                attempt=attempt,
                verifier_result=result,
                repository_id=attempt.repository_id,
                why="similar",
                snippet=result.snippet,
                joined_at=attempt.ended_at,
            )
        )
    ClusterMember.objects.bulk_create(members, batch_size=5000)
    for cluster in clusters:
        cluster.size = cluster.repos = cluster.agent_failures = sizes.get(cluster.pk, 0)
    FailureCluster.objects.bulk_update(clusters, ["size", "repos", "agent_failures"], batch_size=1000)

    first = migrations[0]
    largest = max(by_migration[first.pk], key=lambda c: c.size)
    urls = [
        ("fleet overview", reverse("home")),
        ("migration dashboard", reverse("migration-detail", args=[first.slug])),
        ("repositories", reverse("migration-repos", args=[first.slug])),
        ("repositories, filtered", reverse("migration-repos", args=[first.slug]) + "?state=verify_failed&page=20"),
        ("cluster list", reverse("cluster-list", args=[first.slug])),
        ("cluster list, searched", reverse("cluster-list", args=[first.slug]) + "?q=javax&status=new"),
        ("largest cluster", reverse("cluster-detail", args=[largest.pk])),
        ("attempt", reverse("attempt-detail", args=[attempts[1].trace_id])),
    ]
    counts = (
        f"{len(repos)} repositories, {len(attempts)} attempts, {len(results)} verifier results, "
        f"{len(clusters)} clusters, {len(members)} cluster members"
    )
    return counts, urls
