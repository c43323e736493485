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
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Seed and import the demo fleet, then run the web server, a Celery worker and Celery beat."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--prepare-only", action="store_true", help="seed, import and sync, then exit")
        parser.add_argument("--repos", type=int, default=320, help="how many repositories the demo fleet has")

    def handle(self, *args, **options):
        from runs.demo.prepare import DemoPreparation

        steps = DemoPreparation(self.stdout, repos=options["repos"])
        steps.database()
        steps.static_files()
        steps.users()
        steps.fleet()
        steps.traces_import()
        steps.clusters()

        env = {**os.environ, "FLEETUI_DEMO": "1"}

        def point(**values: str) -> None:
            self._point(env, **values)

        fakes = []
        try:
            fakes.append(steps.slack(point))
            fakes.append(steps.github(point))
            self.stdout.write(f"Prepared in {time.monotonic() - steps.started:.1f} s.")
            if options["prepare_only"]:
                return
            self._serve(options, env)
        finally:
            for fake in fakes:
                fake.stop()

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
        # The web server first: it is what the person waits for; the worker and beat start beside it.
        # This command ran the system checks already.
        children = [
            subprocess.Popen(
                [
                    python,
                    "manage.py",
                    "runserver",
                    "--noreload",
                    "--skip-checks",
                    f"{options['host']}:{options['port']}",
                ],
                env=env,
            ),
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
