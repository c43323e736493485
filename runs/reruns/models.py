"""Rerun batches: selected repositories sent back to the agent, one item each."""

from django.conf import settings
from django.db import models

from fleetui.common.models import Liveness
from runs.fleet.models import Attempt, Migration, PromptRevision, Repository
from runs.imports.models import ImportRun

__all__ = ["RerunBatch", "RerunItem", "RerunKind", "RerunOutcome", "RerunPhase", "RerunState"]


class RerunState(models.TextChoices):
    QUEUED = "queued", "queued"
    DISPATCHED = "dispatched", "dispatched"
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"
    # Created but not dispatched: the rest of a canary batch, released when the canary expands.
    HELD = "held", "held"


ACTIVE_STATES = (RerunState.QUEUED, RerunState.DISPATCHED, RerunState.RUNNING)
IN_FLIGHT_STATES = (RerunState.DISPATCHED, RerunState.RUNNING)
FINAL_STATES = (RerunState.SUCCEEDED, RerunState.FAILED, RerunState.CANCELLED)
# A repository in one of these is spoken for: another batch may not take it.
RESERVED_STATES = (*ACTIVE_STATES, RerunState.HELD)


class RerunOutcome(models.TextChoices):
    """What the rerun did for the repository, judged by its new attempt (not by the runner's exit code)."""

    PENDING = "pending", "runner busy"
    WAITING = "waiting", "waiting for attempt"
    FIXED = "fixed", "fixed"
    STILL_FAILING = "still_failing", "still failing"
    NEW_FAILURE = "new_failure", "new failure"
    RUNNER_FAILED = "runner_failed", "runner failed"
    NO_ATTEMPT = "no_attempt", "no new attempt"
    CANCELLED = "cancelled", "cancelled"
    HELD = "held", "held for the canary"


# The badge colours of the attempt states they read like.
OUTCOME_BADGES = {
    RerunOutcome.PENDING: "state-in_progress",
    RerunOutcome.WAITING: "state-in_progress",
    RerunOutcome.FIXED: "state-succeeded",
    RerunOutcome.STILL_FAILING: "state-verify_failed",
    RerunOutcome.NEW_FAILURE: "state-judge_rejected",
    RerunOutcome.RUNNER_FAILED: "state-agent_error",
    RerunOutcome.NO_ATTEMPT: "state-not_started",
    RerunOutcome.CANCELLED: "state-not_started",
    RerunOutcome.HELD: "state-not_started",
}
# An item in one of these may still change on its own: the batch page keeps polling while any item is.
UNSETTLED_OUTCOMES = (RerunOutcome.PENDING, RerunOutcome.WAITING)
# Worth another rerun: the new attempt still fails.
FAILING_OUTCOMES = (RerunOutcome.STILL_FAILING, RerunOutcome.NEW_FAILURE)


class RerunPhase(models.TextChoices):
    """Where a batch stands: all at once (`full`), or a canary running, expanded to the rest, or paused."""

    FULL = "full", "full"
    CANARY = "canary", "canary"
    EXPANDED = "expanded", "expanded"
    PAUSED = "paused", "paused"


class RerunKind(models.TextChoices):
    """Why the batch exists: a person's rerun, or the automatic retry of an infrastructure failure."""

    RERUN = "rerun", "rerun"
    INFRASTRUCTURE_RETRY = "infrastructure_retry", "infrastructure retry"


class RerunBatch(models.Model):
    """One request to rerun a set of repositories of a migration with a given prompt revision."""

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="rerun_batches")
    prompt_revision = models.ForeignKey(
        PromptRevision, null=True, blank=True, on_delete=models.SET_NULL, related_name="rerun_batches"
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    requested_by_name = models.CharField(max_length=200, blank=True)
    runner = models.CharField(max_length=20, help_text="The runner backend the batch was sent to.")
    source_cluster_id = models.BigIntegerField(null=True, blank=True, help_text="The cluster it was selected from.")
    include_pre_existing = models.BooleanField(default=False)
    skipped = models.JSONField(default=list, blank=True, help_text="Selected repositories not enqueued, and why.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    import_run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    phase = models.CharField(max_length=10, choices=RerunPhase.choices, default=RerunPhase.FULL)
    # An infrastructure retry says nothing about the prompt: its items stay out of cluster fix rates.
    kind = models.CharField(max_length=24, choices=RerunKind.choices, default=RerunKind.RERUN, db_index=True)
    canary_requested = models.JSONField(
        null=True, blank=True, help_text='The canary asked for: {"size": n} or {"fraction": f}.'
    )
    canary_size = models.PositiveIntegerField(null=True, blank=True, help_text="Items chosen as the canary.")
    canary_min_fixed = models.FloatField(null=True, blank=True, help_text="Share of the canary that must be fixed.")
    canary_max_new_cluster_share = models.FloatField(
        null=True, blank=True, help_text="Largest share of the canary one new cluster may take."
    )
    paused_reason = models.TextField(blank=True)
    phase_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"rerun #{self.pk} of {self.migration.slug}"

    @property
    def done(self) -> bool:
        return self.finished_at is not None

    @property
    def is_canary(self) -> bool:
        return self.phase != RerunPhase.FULL


class RerunItem(Liveness):
    """One repository of a rerun batch: its dispatch state and the attempt it produced."""

    # The worker dispatching an item beats for it; the reruns watchdog takes back items whose worker is gone.
    LIVENESS_FIELD = "state"
    LIVE_STATUSES = IN_FLIGHT_STATES
    RETRY_STATUS = RerunState.QUEUED
    GIVE_UP_STATUS = RerunState.FAILED
    # Items dispatched before heartbeats existed: stale once nothing moved for a timeout.
    LIVENESS_SINCE_FIELD = "updated_at"

    batch = models.ForeignKey(RerunBatch, on_delete=models.CASCADE, related_name="items")
    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="+")
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="rerun_items")
    state = models.CharField(max_length=20, choices=RerunState.choices, default=RerunState.QUEUED)
    tries = models.PositiveIntegerField(default=0, help_text="Dispatch tries so far.")
    dispatch_token = models.CharField(max_length=100, blank=True, help_text="Idempotency key of the current try.")
    runner_ref = models.CharField(max_length=300, blank=True, help_text="Job name, process or URL at the runner.")
    started = models.BooleanField(default=False, help_text="The runner confirmed the current try started.")
    exit_code = models.IntegerField(null=True, blank=True)
    output_tail = models.TextField(blank=True)
    error = models.TextField(blank=True)
    source_cluster_id = models.BigIntegerField(null=True, blank=True)
    source_attempt = models.ForeignKey(Attempt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    result_attempt = models.ForeignKey(Attempt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    outcome = models.CharField(
        max_length=20,
        choices=RerunOutcome.choices,
        default=RerunOutcome.PENDING,
        help_text="Set from the new attempt once it is imported, linked and clustered (runs.reruns.outcomes).",
    )
    canary = models.BooleanField(default=False, help_text="Runs first; the batch's other items wait for its verdict.")
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["batch", "id"]
        constraints = [models.UniqueConstraint(fields=["batch", "repository"], name="unique_rerun_item")]
        indexes = [
            models.Index(fields=["migration", "state"]),
            models.Index(fields=["batch", "state"]),
            models.Index(fields=["migration", "outcome"]),
            models.Index(fields=["dispatch_token"]),
        ]

    def __str__(self) -> str:
        return f"{self.repository.full_name} in rerun #{self.batch_id}"

    @property
    def outcome_badge(self) -> str:
        return OUTCOME_BADGES.get(self.outcome, "")
