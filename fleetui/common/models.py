"""Abstract base models shared by the domains (no concrete model lives here)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


@dataclass(frozen=True)
class Recovered:
    """What one `recover_stale` call did: the rows sent back to be retried, and the rows given up on."""

    retried: list[int] = field(default_factory=list)
    given_up: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.retried) + len(self.given_up)


def heartbeat_timeout() -> float:
    """Seconds without a heartbeat after which a worker is taken to be gone (FLEETUI_HEARTBEAT_TIMEOUT).

    Never more than the task's hard time limit (and a margin): no task holds its work longer than that.
    """
    return min(float(settings.FLEETUI_HEARTBEAT_TIMEOUT), settings.CELERY_TASK_TIME_LIMIT + 5.0)


def heartbeat_interval() -> float:
    """How often a live worker beats: several times per timeout, so one slow write is not taken for death."""
    return max(0.2, heartbeat_timeout() / 6)


def watchdog_interval() -> float:
    """How often a watchdog looks for work whose worker is gone: a small part of the timeout, at most a minute."""
    return max(1.0, min(60.0, heartbeat_timeout() / 12))


def stale_age() -> float:
    """Heartbeats older than this belong to gone workers: the timeout less one watchdog interval.

    So a watchdog that looks every `watchdog_interval()` has taken the work back by the time its worker has been
    silent for the whole timeout; a live worker still beats at least four times within it.
    """
    return max(heartbeat_timeout() / 2, heartbeat_timeout() - watchdog_interval())


class Liveness(models.Model):
    """In-flight work that proves its worker is alive with a heartbeat, and is recovered exactly once when it is not.

    The API, for any model that mixes this in:

    - A worker takes the row with one conditional UPDATE that also writes `**Model.claim_fields()`: a fresh
      `claim_token` and `heartbeat_at=now` (`TrackedRun.claim()` does it).
    - While it works it calls `row.beat()` (or runs `fleetui.common.liveness.heartbeat(row)`, a thread that beats
      every `heartbeat_interval()` seconds). `beat()` answers False once the row is no longer this claim's: the
      worker stops and writes nothing more.
    - Every write of the outcome is fenced by the token: `Model.objects.filter(pk=..., claim_token=row.claim_token)`
      (`TrackedRun.finish()` does it), so a late original never overwrites the retried result.
    - A watchdog calls `Model.recover_stale()` every `watchdog_interval()`: each row in a LIVE_STATUSES whose
      heartbeat is older than `stale_age()` (so it is back within FLEETUI_HEARTBEAT_TIMEOUT) goes, by one
      conditional UPDATE on (pk, status, claim_token, stale heartbeat), back to RETRY_STATUS, or to GIVE_UP_STATUS
      on its RECOVERY_LIMIT-th recovery. Two watchdogs never both recover a row, and a row whose worker beats is
      never recovered. The caller re-enqueues `Recovered.retried`.

    Subclasses set the class attributes below; only models whose workers beat may be recovered.
    """

    # The status field, the statuses a worker holds the row in, and where recovery sends it.
    LIVENESS_FIELD = "status"
    LIVE_STATUSES: tuple[str, ...] = ("running",)
    RETRY_STATUS = "queued"
    GIVE_UP_STATUS = "failed"
    # The recovery that reaches this count gives up: the row is shown as needing a person.
    RECOVERY_LIMIT = 3
    # A live row without a heartbeat (written before heartbeats existed) is stale once this time is old.
    LIVENESS_SINCE_FIELD: str | None = None

    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life from the worker holding it."
    )
    claim_token = models.CharField(max_length=32, blank=True, default="", help_text="The current claim's token.")
    recoveries = models.PositiveIntegerField(default=0, help_text="Times it was taken back from a gone worker.")

    class Meta:
        abstract = True

    @staticmethod
    def claim_fields() -> dict:
        """The fields a claim writes: a new token and a first heartbeat."""
        return {"claim_token": uuid.uuid4().hex, "heartbeat_at": timezone.now()}

    def beat(self) -> bool:
        """Refresh the heartbeat; False when the row is no longer held by this claim (recovered or finished)."""
        if not self.claim_token:
            return False
        now = timezone.now()
        alive = (
            type(self)
            ._default_manager.filter(
                pk=self.pk, claim_token=self.claim_token, **{f"{self.LIVENESS_FIELD}__in": self.LIVE_STATUSES}
            )
            .update(heartbeat_at=now)
        )
        if alive:
            self.heartbeat_at = now
        return bool(alive)

    @classmethod
    def heartbeat_cutoff(cls, age: float | None = None) -> datetime:
        """Heartbeats older than this (default: `stale_age()` seconds ago) belong to gone workers."""
        return timezone.now() - timedelta(seconds=stale_age() if age is None else age)

    @classmethod
    def stale_q(cls, cutoff: datetime) -> Q:
        """Rows held in a live status whose worker has not beaten since `cutoff`."""
        silent = Q(heartbeat_at__isnull=True)
        if cls.LIVENESS_SINCE_FIELD:
            since = cls.LIVENESS_SINCE_FIELD
            silent &= Q(**{f"{since}__lt": cutoff}) | Q(**{f"{since}__isnull": True})
        return Q(**{f"{cls.LIVENESS_FIELD}__in": cls.LIVE_STATUSES}) & (Q(heartbeat_at__lt=cutoff) | silent)

    @classmethod
    def live_q(cls, cutoff: datetime | None = None) -> Q:
        """Rows held in a live status by a worker that is still beating."""
        cutoff = cls.heartbeat_cutoff() if cutoff is None else cutoff
        return Q(**{f"{cls.LIVENESS_FIELD}__in": cls.LIVE_STATUSES}) & ~cls.stale_q(cutoff)

    @classmethod
    def recover_stale(
        cls,
        *,
        cutoff: datetime | None = None,
        queryset: models.QuerySet | None = None,
        retry_fields: dict | None = None,
        give_up_fields: dict | None = None,
        give_up: bool = False,
    ) -> Recovered:
        """Take back, exactly once each, the rows of `queryset` (default: all) whose worker stopped beating.

        A row goes to RETRY_STATUS with `retry_fields`, or to GIVE_UP_STATUS with `give_up_fields` when `give_up`
        or on its RECOVERY_LIMIT-th recovery. Its claim token is cleared, so its late original can write nothing.
        """
        cutoff = cls.heartbeat_cutoff() if cutoff is None else cutoff
        rows = cls._default_manager.all() if queryset is None else queryset
        candidates = list(rows.filter(cls.stale_q(cutoff)).values_list("pk", "claim_token", "recoveries"))
        retried: list[int] = []
        given_up: list[int] = []
        for pk, token, recoveries in candidates:
            giving_up = give_up or recoveries + 1 >= cls.RECOVERY_LIMIT
            status = cls.GIVE_UP_STATUS if giving_up else cls.RETRY_STATUS
            extra = (give_up_fields if giving_up else retry_fields) or {}
            # The same conditions again in the UPDATE: a watchdog that lost the race, or a worker that beat
            # meanwhile, leaves the row alone.
            won = cls._default_manager.filter(cls.stale_q(cutoff), pk=pk, claim_token=token).update(
                **{cls.LIVENESS_FIELD: status},
                claim_token="",
                heartbeat_at=None,
                recoveries=F("recoveries") + 1,
                **extra,
            )
            if won:
                (given_up if giving_up else retried).append(pk)
        return Recovered(retried=retried, given_up=given_up)


class TrackedRun(Liveness):
    """Background work a page shows and polls: its status, who asked for it, and when it was queued, started, ended."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    # A subclass with more statuses redefines Status and `status`, and these two tuples where they differ.
    FINAL_STATUSES: tuple[str, ...] = (Status.SUCCEEDED, Status.FAILED)
    CLAIMABLE_STATUSES: tuple[str, ...] = (Status.QUEUED,)
    LIVENESS_SINCE_FIELD = "started_at"

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    @property
    def done(self) -> bool:
        return self.status in self.FINAL_STATUSES

    def claim(self, **fields) -> bool:
        """Move the run to running with one conditional UPDATE; False when another worker claimed it first.

        The claim writes a new `claim_token` and a first heartbeat (see Liveness).
        """
        now = timezone.now()
        fields = {**self.claim_fields(), **fields}
        claimed = (
            type(self)
            ._default_manager.filter(pk=self.pk, status__in=self.CLAIMABLE_STATUSES)
            .update(status=self.Status.RUNNING, started_at=now, **fields)
        )
        if claimed:
            self.status, self.started_at = self.Status.RUNNING, now
            for name, value in fields.items():
                setattr(self, name, value)
        else:
            self.refresh_from_db()
        return bool(claimed)

    def finish(self, status: str, *, from_status: str | None = None, **fields) -> bool:
        """End the run with `status` (and other fields); with `from_status`, only if it is still in that status.

        A run that holds a claim ends only while the claim is still its own: after a recovery it writes nothing.
        """
        now = timezone.now()
        rows = type(self)._default_manager.filter(pk=self.pk)
        if from_status is not None:
            rows = rows.filter(status=from_status)
        if self.claim_token:
            rows = rows.filter(claim_token=self.claim_token)
        ended = rows.update(status=status, finished_at=now, **fields)
        if ended:
            self.status, self.finished_at = status, now
            for name, value in fields.items():
                setattr(self, name, value)
        return bool(ended)
