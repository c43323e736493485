"""TrackedRun: the claim before the side effect, and the end of a run, shared by every run record."""

import pytest

from notifications.slack.directory import directory_sync_execute
from notifications.slack.models import DirectorySyncRun
from runs.imports.models import ImportRun

pytestmark = pytest.mark.django_db


def test_a_queued_run_is_claimed_once():
    run = ImportRun.objects.create()
    again = ImportRun.objects.get(pk=run.pk)

    first, second = run.claim(tracking_uri="sqlite:///x.db"), again.claim()

    assert (first, second) == (True, False)
    stored = ImportRun.objects.get(pk=run.pk)
    assert stored.status == ImportRun.Status.RUNNING and stored.started_at is not None
    assert stored.tracking_uri == "sqlite:///x.db"
    assert again.status == ImportRun.Status.RUNNING  # the loser sees the winner's state


def test_finish_from_a_status_leaves_a_run_that_moved_on_alone():
    run = ImportRun.objects.create()
    run.claim()
    assert run.finish(ImportRun.Status.FAILED, message="worker lost")

    ended = run.finish(ImportRun.Status.SUCCEEDED, from_status=ImportRun.Status.RUNNING, message="late")

    stored = ImportRun.objects.get(pk=run.pk)
    assert ended is False
    assert (stored.status, stored.message, stored.done) == (ImportRun.Status.FAILED, "worker lost", True)


def test_a_redelivered_directory_sync_does_nothing_while_the_first_runs():
    run = DirectorySyncRun.objects.create(trigger="manual")
    assert run.claim()

    class NoSlack:
        def list_channels(self, **kwargs):
            raise AssertionError("a second delivery must not list the channels again")

    returned = directory_sync_execute(run=DirectorySyncRun.objects.get(pk=run.pk), client=NoSlack())

    assert returned.status == DirectorySyncRun.Status.RUNNING
    assert DirectorySyncRun.objects.get(pk=run.pk).listed == 0


def test_a_rate_limited_directory_sync_can_be_claimed_again_by_its_retry():
    run = DirectorySyncRun.objects.create(trigger="manual", status=DirectorySyncRun.Status.RETRYING)

    assert run.claim()
    assert not run.claim()
