"""The Celery application; configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery

from fleetui.common.broker import sqlite_transport_use

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleetui.settings")
sqlite_transport_use()

app = Celery("fleetui")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each domain keeps its tasks in its own tasks.py; every task's name is pinned where it is defined.
TASK_PACKAGES = (
    "runs.imports",
    "runs.github",
    "runs.reviews",
    "runs.reruns",
    "triage.clusters",
    "notifications.ownership",
    "notifications.slack",
    "notifications.nudges",
    "notifications.teams",
)
app.autodiscover_tasks(TASK_PACKAGES)
