"""`manage.py bench_github`: requests a pull-request sync costs against the rate limit, first and second time.

Seeds `--prs` pull requests (default 10,000; `--per-repo` of them in each repository) in a throw-away test
database and in the local fake GitHub, then runs the real sync code twice with the client a worker builds.
The second sync starts from a new client (another worker, or after a restart), with nothing changed on
GitHub. Each sync prints its requests, those answered 304 (free: they do not count against GitHub's
5,000/hour limit), those the fake counted against the limit, and its wall time; the second sync's counted requests are also
printed as a ratio to the goal of at most 1,000 for 10,000 pull requests.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from django.core.management.base import BaseCommand
from django.db import connection
from django.test import override_settings

GOAL_PER_10K = 1000
HOURLY_LIMIT = 5000


@dataclass
class _Phase:
    requests: int
    not_modified: int
    counted: int
    seconds: float
    due: int
    checked: int
    errors: int

    @property
    def share_304(self) -> float:
        return self.not_modified / self.requests if self.requests else 0.0


class Command(BaseCommand):
    help = "Benchmark the GitHub requests of a first and a second pull-request sync against the local fake."

    def add_arguments(self, parser):
        parser.add_argument("--prs", type=int, default=10_000, help="Pull requests to seed and sync.")
        parser.add_argument("--per-repo", type=int, default=1, help="Pull requests per repository (migrations).")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, **options):
        from runs.demo.fake_github import FakeGitHub

        count, per_repo = max(1, options["prs"]), max(1, options["per_repo"])
        original = connection.settings_dict["NAME"]
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        fake = FakeGitHub(rate_limit=10**9).start()
        try:
            seed_s = _seed(fake, count, per_repo, options["seed"])
            with override_settings(GITHUB_API_URL=fake.url, GITHUB_TOKEN="", GITHUB_TIMEOUT=30):
                first = _sync(fake)
                second = _sync(fake)
        finally:
            fake.stop()
            connection.creation.destroy_test_db(original, verbosity=0)
        goal = max(1, round(GOAL_PER_10K * count / 10_000))
        repos = (count + per_repo - 1) // per_repo
        lines = [
            f"seeded {count} pull requests in {repos} repositories ({per_repo} each) in {seed_s:.1f} s; "
            f"database: {connection.vendor}",
        ]
        for name, phase in (("first sync", first), ("second sync, nothing changed", second)):
            lines.append(
                f"{name}: {phase.requests} requests, {phase.not_modified} answered 304 ({phase.share_304:.0%}), "
                f"{phase.counted} counted against the rate limit ({phase.counted / HOURLY_LIMIT:.2f} h of a "
                f"{HOURLY_LIMIT:,}/hour budget), {phase.seconds:.1f} s wall ({phase.due} due: open or never read; "
                f"{phase.checked} checked, {phase.errors} errors)"
            )
            if phase.errors or phase.checked != phase.due:
                lines.append(f"  NOT A CLEAN SYNC: {phase.due - phase.checked} of {phase.due} were not checked")
        lines.append(
            f"second sync counted requests: {second.counted} for {count} pull requests, goal at most {goal}: "
            f"ratio {second.counted / goal:.2f} (at most 1.00 meets it); 304 share {second.share_304:.0%} "
            "(goal at least 90%)"
        )
        self.stdout.write("\n".join(lines))


def _sync(fake) -> _Phase:
    """One sync run of every pull request due, with a new worker client, as the periodic task runs it."""
    from runs.github import sync

    sync._local.__dict__.clear()  # a new worker thread: no client, no in-memory cache
    requests_before, not_modified_before = len(fake.requests), fake.not_modified_count
    counted_before = fake.counted_count
    started = time.perf_counter()
    run = sync.pull_request_sync_run_inline(trigger="bench", client=sync.github_client())
    seconds = time.perf_counter() - started
    return _Phase(
        requests=len(fake.requests) - requests_before,
        not_modified=fake.not_modified_count - not_modified_before,
        counted=fake.counted_count - counted_before,  # the fake's own rate-limit accounting
        seconds=seconds,
        due=run.total,
        checked=run.checked,
        errors=run.errors,
    )


def _seed(fake, count: int, per_repo: int, seed: int) -> float:
    """Pull request rows as the importer leaves them (URL and links only), and their state on the fake GitHub."""
    from runs.fleet.models import Migration, PullRequest, Repository

    started = time.perf_counter()
    rng = random.Random(seed)
    repo_count = (count + per_repo - 1) // per_repo
    migrations = Migration.objects.bulk_create(
        Migration(slug=f"bench-migration-{index}", title=f"Bench migration {index}") for index in range(per_repo)
    )
    if migrations[0].pk is None:
        migrations = list(Migration.objects.order_by("id"))
    Repository.objects.bulk_create(Repository(full_name=f"bench-org/svc-{index:05d}") for index in range(repo_count))
    repos = list(Repository.objects.order_by("id"))
    rows = []
    for index in range(count):
        repo, migration = repos[index // per_repo], migrations[index % per_repo]
        number = 100 + index % per_repo
        rows.append(
            PullRequest(url=f"https://github.com/{repo.full_name}/pull/{number}", repository=repo, migration=migration)
        )
        owner, name = repo.full_name.split("/")
        _seed_pull(fake, rng, owner, name, number)
    PullRequest.objects.bulk_create(rows, batch_size=1000)
    return time.perf_counter() - started


def _seed_pull(fake, rng: random.Random, owner: str, repo: str, number: int) -> None:
    """Varied state: mostly open (some drafts), some merged or closed; CI mostly final, some pending; reviews."""
    roll = rng.random()
    state = "open" if roll < 0.7 else "merged" if roll < 0.85 else "closed"
    sha = f"{rng.getrandbits(160):040x}"
    fake.add_pull(owner, repo, number, state=state, draft=state == "open" and rng.random() < 0.6, head_sha=sha)
    ci = rng.random()
    if ci < 0.15:
        fake.add_check_run(owner, repo, sha, name="build", status="in_progress")
    else:
        fake.add_check_run(owner, repo, sha, name="build", conclusion="failure" if ci < 0.3 else "success")
    if rng.random() < 0.2:
        fake.add_status(owner, repo, sha, context="ci/jenkins", state="success")
    if rng.random() < 0.5:
        fake.add_review(owner, repo, number, user="rita", state=rng.choice(["APPROVED", "CHANGES_REQUESTED"]))
