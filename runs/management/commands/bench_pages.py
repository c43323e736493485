"""`manage.py bench_pages`: server time of every main page on a fleet of real scale, beside a trivial page.

Seeds a throw-away test database on the configured server (`_pages_fleet.py`: at `--scale 1`, 40 migrations,
10,000 repositories, 500,000 attempts, 1,000,000 verifier results, 5,000 clusters), then requests each page
warm with Django's test client as a logged-in user: p50, p95, max and the number of queries, and each page's
p95 as a ratio to a trivial authenticated page measured in the same run. A page counts as met only when it
answered 200 every time (a fast error or a redirect to the login page is a failure).

`--scales 0.25,1` seeds and measures each scale in turn and prints how each page's p95 grows between them:
a page whose time grows with the number of attempts does work per attempt on every request.
"""

import statistics
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import (
    override_settings,
    setup_test_environment,
    teardown_test_environment,
)
from django.urls import reverse

from runs.management.commands._pages_fleet import seed

GOAL_MS = 100
GOAL_RATIO = 5


class Command(BaseCommand):
    help = "Benchmark page server times on a fleet of real scale (p50/p95/max, queries, ratio to a trivial page)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scales", "--scale", default="1", help="A scale or comma-separated scales; 1 = 500,000 attempts."
        )
        parser.add_argument("--migrations", type=int, default=40)
        parser.add_argument("--requests", type=int, default=20)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--only",
            default="",
            help="Comma-separated starts of page names to measure (e.g. 'cluster list,largest'); the trivial page always is.",
        )

    def handle(self, *args, **options):
        scales = [float(s) for s in options["scales"].split(",") if s.strip()]
        results = {}
        for scale in scales:
            results[scale] = self._run_scale(scale, options)
        if len(scales) > 1:
            self._print_growth(scales, results)

    def _run_scale(self, scale: float, options) -> dict:
        creation = connection.creation
        original = connection.settings_dict["NAME"]
        creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        setup_test_environment()
        try:
            started = time.perf_counter()
            fleet = seed(
                scale=scale, migrations=options["migrations"], seed=options["seed"], progress=self.stdout.write
            )
            self.stdout.write(f"scale {scale:g}: seeded {fleet} in {time.perf_counter() - started:.0f} s")
            if connection.vendor == "postgresql":
                # As autovacuum leaves a settled database: statistics, and visibility maps for index-only scans.
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE")
            # Static names unhashed: the server's work per page is measured, not whether collectstatic ran.
            plain = {
                **settings.STORAGES,
                "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            }
            with override_settings(ALLOWED_HOSTS=["*"], DEBUG=False, STORAGES=plain):
                rows = self._measure(_pages(fleet, options["only"]), options["requests"])
        finally:
            teardown_test_environment()
            creation.destroy_test_db(original, verbosity=0)
        self._print(scale, rows)
        return {row["name"]: row for row in rows}

    def _measure(self, urls, repeats):
        from fleetui.common.startup import server_heap_freeze
        from runs.accounts.services import user_with_role_create

        # A page that fails answers 500 and is reported as missed, not as a crash of the benchmark.
        client = Client(raise_request_exception=False)
        client.force_login(user_with_role_create(username="bench", role="admin", password="bench-unused"))
        # As the server's entry point does before its first request (fleetui/wsgi.py): the loaded heap is frozen.
        server_heap_freeze()
        rows = []
        for name, url in urls:
            statuses = set()
            for _ in range(2):
                statuses.add(client.get(url).status_code)
            queries = _Counted()
            with connection.execute_wrapper(queries):
                client.get(url)
            times = []
            for _ in range(repeats):
                reset_queries()
                started = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                statuses.add(response.status_code)
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            rows.append(
                {
                    "name": name,
                    "p50": statistics.median(times),
                    "p95": p95,
                    "max": times[-1],
                    "queries": len(queries),
                    "statuses": statuses,
                }
            )
        return rows

    def _print(self, scale, rows):
        trivial = rows[0]["p95"] or 1e-9
        self.stdout.write("")
        self.stdout.write(
            f"{'page (scale ' + format(scale, 'g') + ')':<34}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
            f"{'queries':>9}{'p95/trivial':>13}  status"
        )
        missed = []
        for row in rows:
            ok = row["statuses"] == {200}
            ratio = row["p95"] / trivial
            status = ",".join(str(s) for s in sorted(row["statuses"]))
            self.stdout.write(
                f"{row['name']:<34}{row['p50']:>9.1f}{row['p95']:>9.1f}{row['max']:>9.1f}"
                f"{row['queries']:>9}{ratio:>12.1f}x  {status}"
            )
            if row is not rows[0] and (not ok or row["p95"] > GOAL_MS or ratio > GOAL_RATIO):
                missed.append(row["name"] if ok else f"{row['name']} (answered {status})")
        self.stdout.write("")
        self.stdout.write(
            f"goal p95 <= {GOAL_MS} ms and <= {GOAL_RATIO}x the trivial page, answered 200: "
            + ("met on every page" if not missed else f"missed on {len(missed)}: " + ", ".join(missed))
        )

    def _print_growth(self, scales, results):
        small, large = scales[0], scales[-1]
        factor = large / small
        self.stdout.write("")
        self.stdout.write(f"growth of p95 from scale {small:g} to {large:g} ({factor:g}x the data):")
        for name, row in results[large].items():
            before = results[small].get(name)
            if before:
                growth = row["p95"] / (before["p95"] or 1e-9)
                flag = "  <- grows with the data" if growth > max(2.0, factor / 2) else ""
                self.stdout.write(f"  {name:<32}{before['p95']:>9.1f} -> {row['p95']:>9.1f} ms  {growth:>5.2f}x{flag}")


class _Counted(list):
    """An execute wrapper that keeps the SQL of every query a request makes."""

    def __call__(self, execute, sql, params, many, context):
        self.append(sql)
        return execute(sql, params, many, context)


def _pages(fleet, only: str = ""):
    wanted = {name.strip() for name in only.split(",") if name.strip()}
    pages = _all_pages(fleet)
    return [page for i, page in enumerate(pages) if i == 0 or not wanted or page[0].startswith(tuple(wanted))]


def _all_pages(fleet):
    slug = fleet.first_slug
    repos = reverse("migration-repos", args=[slug])
    clusters = reverse("cluster-list", args=[slug])
    return [
        ("trivial page (API tokens)", reverse("api-tokens")),
        ("fleet overview", reverse("home")),
        ("migration dashboard", reverse("migration-detail", args=[slug])),
        ("repositories", repos),
        ("repositories, filtered", repos + "?state=verify_failed"),
        ("repositories, sorted", repos + "?order=-last_activity"),
        ("repositories, deep page", repos + "?page=150"),
        ("cluster list", clusters),
        ("cluster list, searched", clusters + "?q=javax&status=new"),
        ("largest cluster", reverse("cluster-detail", args=[fleet.largest_cluster_id])),
        ("attempt", reverse("attempt-detail", args=[fleet.attempt_trace_id])),
        ("review queue", reverse("reviews")),
        ("review queue, one migration", reverse("migration-reviews", args=[slug])),
        ("nudge drafts", reverse("notifications:nudge-drafts", args=[slug])),
        ("rerun batch of 1,000 items", reverse("rerun-detail", args=[fleet.rerun_batch_id])),
        ("activity", reverse("activity")),
    ]
