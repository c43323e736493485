"""The Celery convention: every scheduled task exists, and task names stay put when code moves."""

import pytest
from django.conf import settings

from fleetui.celery import TASK_PACKAGES, app

# Loading a worker's modules runs Django's start-up checks, which read the database.
pytestmark = pytest.mark.django_db

# Queued messages and beat schedules name tasks by these strings; moving a task's code must not change them.
PINNED_TASK_NAMES = {
    "runs.tasks.import_traces_task",
    "runs.tasks.pull_requests_refresh_task",
    "runs.tasks.pull_requests_sync_task",
    "runs.tasks.pull_requests_sync_chunk_task",
    "runs.tasks.webhook_delivery_process_task",
    "runs.tasks.webhook_deliveries_prune_task",
    "runs.tasks.webhook_deliveries_recover_task",
    "runs.tasks.review_decision_push_task",
    "runs.tasks.review_decisions_recover_task",
    "runs.tasks_reruns.rerun_item_task",
    "runs.tasks_reruns.rerun_items_fanout_task",
    "runs.tasks_reruns.rerun_items_dispatch_task",
    "runs.tasks_reruns.reruns_watchdog_task",
    "runs.tasks_reruns.rerun_results_link_task",
    "triage.tasks.cluster_rebuild_task",
    "triage.tasks.clusters_rebuild_all_task",
    "triage.tasks.clusters_assign_new_task",
    "triage.tasks.mlflow_writeback_task",
    "notifications.tasks.slack_directory_sync_task",
    "notifications.tasks.nudge_send_task",
    "notifications.tasks.nudge_deliveries_recover_task",
    "notifications.tasks.ownership_resolve_task",
    "notifications.tasks.team_digest_send_task",
    "notifications.tasks.team_digest_followup_task",
    "notifications.tasks.team_escalation_send_task",
    "notifications.tasks.team_inbox_round_task",
}


def product_task_names() -> set[str]:
    """The tasks a worker finds by autodiscovery, as a worker process loads them."""
    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


def test_every_task_in_the_beat_schedule_is_registered():
    registered = product_task_names()

    missing = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()} - registered

    assert not missing, f"scheduled but not registered: {sorted(missing)}"


def test_every_task_keeps_its_pinned_name():
    assert product_task_names() == PINNED_TASK_NAMES


def test_every_package_that_defines_tasks_is_in_the_autodiscovery_list():
    product_task_names()

    packages = {app.tasks[name].__module__.removesuffix(".tasks") for name in PINNED_TASK_NAMES}

    assert packages == set(TASK_PACKAGES)
