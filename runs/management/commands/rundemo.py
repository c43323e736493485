"""`manage.py rundemo`: prepares the demo fleet and runs the web server, a worker and beat.

The demo serves its own fake GitHub and Slack on loopback (the same fakes the tests use,
answering with the vendors' example payloads in runs/demo/payloads), so pull-request states, review
queues, channel matching and nudges work without any outside service. A second run reuses
the database, the MLflow store and the users it finds.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Seed and import the demo fleet, then run the web server, a Celery worker and Celery beat."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--prepare-only", action="store_true", help="seed, import and sync, then exit")

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database ready.")
        # The server runs without DEBUG: pages name the hashed, compressed copies collectstatic writes.
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("create_demo_users")
        call_command("seed_demo")
        call_command("import_traces")
        call_command("rebuild_clusters")

        env = {**os.environ, "FLEETUI_DEMO": "1"}
        fakes = []
        try:
            fakes += self._fake_slack(env)
            fakes += self._fake_github(env)
            if options["prepare_only"]:
                return
            self._serve(options, env)
        finally:
            for fake in fakes:
                fake.stop()

    def _fake_slack(self, env: dict[str, str]) -> list:
        from runs.demo.fake_slack import FakeSlack
        from runs.demo.slack import demo_slack_populate

        catalog = settings.DATA_DIR / "demo-catalog"
        fake = FakeSlack().start()
        demo_slack_populate(fake, channels_file=catalog / "slack-channels.json")
        self._point(env, SLACK_API_URL=fake.url, SLACK_BOT_TOKEN=fake.token)
        call_command("sync_slack_channels")
        call_command("sync_ownership", catalog=str(catalog / "catalog"), codeowners_dir=str(catalog / "codeowners"))
        self.stdout.write(f"Fake Slack workspace on {fake.url}")
        return [fake]

    def _fake_github(self, env: dict[str, str]) -> list:
        from runs.demo.github import demo_github_start, demo_github_sync

        fake, count = demo_github_start(seed=7)
        self._point(env, GITHUB_API_URL=fake.url, GITHUB_TOKEN="demo-token", GITHUB_WEBHOOK_SECRET="demo-secret")
        run = demo_github_sync(base_url=fake.url)
        self.stdout.write(f"Fake GitHub on {fake.url}: {count} pull requests, sync {run.status}")
        return [fake]

    @staticmethod
    def _point(env: dict[str, str], **values: str) -> None:
        """Points this process (settings) and the worker, beat and web processes (env) at a fake."""
        for name, value in values.items():
            setattr(settings, name, value)
            env[name] = value

    def _serve(self, options, env: dict[str, str]) -> None:
        python = sys.executable
        url = f"http://{options['host']}:{options['port']}/"
        env["FLEETUI_BASE_URL"] = url.rstrip("/")
        children = [
            subprocess.Popen(
                [python, "-m", "celery", "-A", "fleetui", "worker", "--loglevel", "INFO", "--concurrency", "2"],
                env=env,
            ),
            subprocess.Popen(
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "fleetui",
                    "beat",
                    "--loglevel",
                    "INFO",
                    "--schedule",
                    str(settings.DATA_DIR / "celerybeat-schedule"),
                ],
                env=env,
            ),
        ]
        password = os.environ.get("FLEETUI_DEMO_PASSWORD", "fleetui-demo")
        self.stdout.write(
            self.style.SUCCESS(
                f"\nfleetui demo: {url}\n"
                f"Log in as viewer, reviewer, owner or admin with the password '{password}'.\n"
                "A Celery worker and beat run alongside; Ctrl-C stops everything.\n"
            )
        )
        children.append(
            subprocess.Popen(
                [python, "manage.py", "runserver", "--noreload", f"{options['host']}:{options['port']}"], env=env
            )
        )
        try:
            while all(child.poll() is None for child in children):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
