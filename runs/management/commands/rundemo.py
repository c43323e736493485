"""`manage.py rundemo`: prepares the demo fleet and runs the web server, a worker and beat.

A second run reuses the database, the MLflow store and the users it finds.
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
        parser.add_argument("--prepare-only", action="store_true", help="seed and import, then exit")

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database ready.")
        call_command("create_demo_users")
        call_command("seed_demo")
        call_command("import_traces")
        if options["prepare_only"]:
            return

        env = {**os.environ, "FLEETUI_DEMO": "1"}
        python = sys.executable
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
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(
            self.style.SUCCESS(
                f"\nfleetui demo: {url}\n"
                "Log in as viewer, reviewer, owner or admin; the password is 'fleetui-demo' "
                "(or FLEETUI_DEMO_PASSWORD).\nA Celery worker and beat run alongside; Ctrl-C stops everything.\n"
            )
        )
        server = subprocess.Popen(
            [python, "manage.py", "runserver", "--noreload", f"{options['host']}:{options['port']}"], env=env
        )
        children.append(server)
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
