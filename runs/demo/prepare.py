"""The demo's preparation steps, each timed and printed, each skipped when the data folder is already current.

A first run writes the fleet's traces, imports and clusters them, and reads the fake Slack and GitHub; a
second run finds every fingerprint in `demo-state.json` current and only starts the fakes (they answer
from memory, so they must run for the pages to reach Slack and GitHub).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.core.management import call_command

from runs.demo.state import DemoState, files_fingerprint, sqlite_store_fingerprint, tree_fingerprint, values_fingerprint

SEED = 7
REPOS = 320


class DemoPreparation:
    """Runs the steps in order against the configured database, MLflow store and data folder."""

    def __init__(self, stdout: TextIO, *, seed: int = SEED, repos: int = REPOS) -> None:
        self.stdout = stdout  # the commands each step calls print there too
        self.write = stdout.write
        self.seed = seed
        self.repos = repos
        self.data_dir = Path(settings.DATA_DIR)
        self.tracking_uri = settings.MLFLOW_TRACKING_URI
        self.state = DemoState(self.data_dir)
        self.catalog = self.data_dir / "demo-catalog"
        self.started = time.monotonic()

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[None]:
        began = time.monotonic()
        self.write(f"[{began - self.started:5.1f} s] {title}...")
        yield
        self.write(f"[{time.monotonic() - self.started:5.1f} s] {title}: done in {time.monotonic() - began:.1f} s")

    def skipped(self, title: str, why: str) -> None:
        self.write(f"[{time.monotonic() - self.started:5.1f} s] {title}: {why}")

    # -- database, static files, users -------------------------------------------------------------------------

    def database(self) -> None:
        with self.step("Database"):
            call_command("migrate", interactive=False, verbosity=0, stdout=self.stdout)

    def static_files(self) -> None:
        """collectstatic, unless the hashed copies were written from these very source files."""
        from django.contrib.staticfiles import finders

        sources = [storage.path(path) for finder in finders.get_finders() for path, storage in finder.list([])]
        fingerprint = {"sources": files_fingerprint(sources), "root": str(settings.STATIC_ROOT)}
        from django.contrib.staticfiles.storage import staticfiles_storage

        root = Path(settings.STATIC_ROOT)
        manifest = getattr(staticfiles_storage, "manifest_name", None)  # the hashed names' table, when there is one
        written = (root / manifest).is_file() if manifest else root.is_dir() and any(root.iterdir())
        if written and self.state.current("static", fingerprint):
            self.skipped("Static files", f"{len(sources)} files, unchanged since the last collectstatic")
            return
        with self.step(f"Static files ({len(sources)}, hashed and compressed)"):
            # The server runs without DEBUG: pages name the hashed, compressed copies collectstatic writes.
            call_command("collectstatic", interactive=False, verbosity=0, stdout=self.stdout)
        self.state.record("static", fingerprint)

    def users(self) -> None:
        call_command("create_demo_users", stdout=self.stdout)

    # -- traces: write, import, cluster ----------------------------------------------------------------------

    def fleet(self) -> None:
        fingerprint = {"seed": self.seed, "repos": self.repos, "tracking_uri": self.tracking_uri}
        if sqlite_store_fingerprint(self.tracking_uri) and self.state.current("fleet", fingerprint):
            self.skipped("Demo fleet", f"already written to {self.tracking_uri}")
            return
        with self.step("Demo fleet: writing its traces to MLflow"):
            call_command("seed_demo", "--seed", str(self.seed), "--repos", str(self.repos), stdout=self.stdout)
        self.state.record("fleet", fingerprint)

    def traces_import(self) -> bool:
        """Imports what MLflow holds; False when the store has not changed since the last import."""
        from runs.fleet.models import Attempt

        store = sqlite_store_fingerprint(self.tracking_uri)
        if Attempt.objects.exists() and self.state.current("import", store):
            self.skipped("Import", "the MLflow store has not changed since the last import")
            return False
        with self.step("Import of the traces"), _import_progress(self.write):
            call_command("import_traces", stdout=self.stdout)
        self.state.record("import", store)
        self.state.forget("clusters")
        return True

    def clusters(self) -> None:
        from triage.clusters.models import FailureCluster

        store = self.state.steps.get("import")
        if FailureCluster.objects.exists() and self.state.current("clusters", store):
            self.skipped("Clusters", "no trace imported since they were built")
            return
        with self.step("Clustering the failures"):
            call_command("rebuild_clusters", stdout=self.stdout)
        self.state.record("clusters", store)

    # -- the fake vendors ---------------------------------------------------------------------------------------

    def slack(self, point: Callable[..., None]):
        """Starts the fake Slack with the workspace's channels; reads them and the ownership data when changed."""
        from notifications.slack.models import SlackChannel
        from runs.demo.fake_slack import FakeSlack
        from runs.demo.slack import demo_slack_populate

        fake = FakeSlack().start()
        demo_slack_populate(fake, channels_file=self.catalog / "slack-channels.json")
        point(SLACK_API_URL=fake.url, SLACK_BOT_TOKEN=fake.token)
        fingerprint = tree_fingerprint(self.catalog)
        if SlackChannel.objects.exists() and self.state.current("slack", fingerprint):
            self.skipped(f"Fake Slack on {fake.url}", "channels and owners unchanged since the last read")
            return fake
        with self.step(f"Fake Slack on {fake.url}: reading channels and owners"):
            call_command("sync_slack_channels", stdout=self.stdout)
            call_command(
                "sync_ownership",
                catalog=str(self.catalog / "catalog"),
                codeowners_dir=str(self.catalog / "codeowners"),
                stdout=self.stdout,
            )
        self.state.record("slack", fingerprint)
        return fake

    def github(self, point: Callable[..., None]):
        """Starts the fake GitHub with every pull request; syncs them unless all were read from this same set."""
        from runs.demo.github import demo_github_start, demo_github_sync
        from runs.fleet.models import PullRequest

        fake, count = demo_github_start(seed=self.seed)
        point(GITHUB_API_URL=fake.url, GITHUB_TOKEN="demo-token", GITHUB_WEBHOOK_SECRET="demo-secret")
        urls = PullRequest.objects.order_by("url").values_list("url", flat=True)
        fingerprint = values_fingerprint([str(self.seed), *urls])
        unread = PullRequest.objects.filter(synced_at__isnull=True).count()
        if not unread and self.state.current("github", fingerprint):
            self.skipped(f"Fake GitHub on {fake.url}", f"{count} pull requests, all read since they last changed")
            return fake
        with self.step(f"Fake GitHub on {fake.url}: reading {count} pull requests"):
            run = demo_github_sync(base_url=fake.url)
            self.write(f"  sync {run.status}")
        if not PullRequest.objects.filter(synced_at__isnull=True).exists():
            self.state.record("github", fingerprint)
        return fake


@contextlib.contextmanager
def _import_progress(write: Callable[[str], None], every: float = 3.0) -> Iterator[None]:
    """Prints the running import's counts every few seconds (they grow page by page)."""
    from django.db import connection

    from runs.imports.models import ImportRun

    stop = threading.Event()
    since = ImportRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def report() -> None:
        try:
            while not stop.wait(every):
                run = ImportRun.objects.filter(pk__gt=since).order_by("-pk").first()
                if run is not None:
                    write(f"  {run.seen} traces read, {run.imported} imported")
        except Exception:  # progress is a courtesy: a locked or busy database must not fail the import
            pass
        finally:
            connection.close()

    thread = threading.Thread(target=report, name="import-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every + 5)
