"""`manage.py rundemo`: prepares the demo fleet and runs the web server, a worker and beat.

The demo serves its own fake GitHub and Slack on loopback (the same fakes the tests use,
answering with the vendors' example payloads in runs/demo/payloads), so pull-request states, review
queues, channel matching and nudges work without any outside service. On a first run it also
starts two canary reruns for the worker (`_demo_canaries.py`). A second run reuses the database,
the MLflow store and the users it finds.
"""

import contextlib
import os
import signal
import socket
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
        self._canaries(steps)

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
    def _canaries(steps) -> None:
        """Two canary reruns for the worker to run: one whose prompt names the fix, one unchanged."""
        from runs.management.commands._demo_canaries import demo_canary_batches_start

        started = demo_canary_batches_start()
        if not started:
            steps.skipped("Canary reruns", "started before, or no two clusters of the agent's failures to rerun")
            return
        for canary in started:
            how = "with its fix in the prompt" if canary.with_fix else "with the prompt unchanged"
            steps.write(f"  canary rerun #{canary.batch.pk} of '{canary.cluster.title[:60]}' {how}")

    @staticmethod
    def _wait_listening(process: subprocess.Popen, host: str, port: int, timeout: float = 60.0) -> None:
        """Returns once the web server accepts connections, or has exited, or after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
                return
            time.sleep(0.2)

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
        # The web server first, alone until it listens (it is what the person waits for; on two cores three
        # interpreters starting at once each take three times as long), then the worker and beat.
        # This command ran the system checks already.
        schedule = str(settings.DATA_DIR / "celerybeat-schedule")
        password = os.environ.get("FLEETUI_DEMO_PASSWORD", "fleetui-demo")
        children = []
        try:
            web = subprocess.Popen(
                [
                    python,
                    "manage.py",
                    "runserver",
                    "--noreload",
                    "--skip-checks",
                    f"{options['host']}:{options['port']}",
                ],
                env=env,
            )
            children.append(web)
            self._wait_listening(web, options["host"], options["port"])
            children += [
                subprocess.Popen(
                    [python, "-m", "celery", "-A", "fleetui", "worker", "--loglevel", "INFO", "--concurrency", "2"],
                    env=env,
                ),
                subprocess.Popen(
                    [python, "-m", "celery", "-A", "fleetui", "beat", "--loglevel", "INFO", "--schedule", schedule],
                    env=env,
                ),
            ]
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nfleetui demo: {url}\n"
                    f"Log in as viewer, reviewer, owner or admin with the password '{password}'.\n"
                    "A Celery worker and beat run alongside; Ctrl-C stops everything.\n"
                )
            )
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
