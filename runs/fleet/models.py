"""The fleet's records: migrations and their prompts, teams, repositories, attempts, targets, pull requests, audit."""

import hashlib

from django.conf import settings
from django.db import models

from runs.fleet import layers


class Team(models.Model):
    """A team that owns repositories; the ownership resolver fills it in."""

    slug = models.SlugField(max_length=200, unique=True)
    name = models.CharField(max_length=200)
    aliases = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name or self.slug


class Repository(models.Model):
    """A source repository, named `owner/name`."""

    full_name = models.CharField(max_length=300, unique=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="repositories")
    ownership_source = models.CharField(max_length=40, blank=True, help_text="Which source decided the team.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["full_name"]
        verbose_name_plural = "repositories"

    def __str__(self) -> str:
        return self.full_name


class Migration(models.Model):
    """One change applied by coding agents across the fleet."""

    slug = models.SlugField(max_length=200, unique=True)
    title = models.CharField(max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_migrations"
    )
    owner_name = models.CharField(max_length=200, blank=True, help_text="Owner as named in the traces.")
    # Who may rerun, edit the prompt and nudge for this migration (with admins); see runs/fleet/ownership.py.
    owners = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="co_owned_migrations",
        help_text="Migration owners who may rerun, edit the prompt and nudge for it. "
        "While empty, every migration owner may.",
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.title or self.slug


class PromptRevision(models.Model):
    """A numbered, hashed version of a migration's prompt."""

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="prompt_revisions")
    number = models.PositiveIntegerField()
    text = models.TextField(blank=True)
    text_hash = models.CharField(max_length=64, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    author_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["migration", "number"]
        constraints = [models.UniqueConstraint(fields=["migration", "number"], name="unique_prompt_revision_number")]

    def __str__(self) -> str:
        return f"{self.migration.slug} r{self.number}"

    @staticmethod
    def hash_text(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Phase(models.TextChoices):
    BASELINE = "baseline", "baseline"
    MIGRATION = "migration", "migration"


class Outcome(models.TextChoices):
    SUCCEEDED = "succeeded", "succeeded"
    VERIFY_FAILED = "verify_failed", "verifier failed"
    JUDGE_REJECTED = "judge_rejected", "judge rejected"
    AGENT_ERROR = "agent_error", "agent error"
    NO_CHANGE = "no_change", "no change"
    IN_PROGRESS = "in_progress", "in progress"


FAILED_OUTCOMES = (Outcome.VERIFY_FAILED, Outcome.JUDGE_REJECTED, Outcome.AGENT_ERROR)


class Layer(models.TextChoices):
    """Where an attempt's failure comes from, or whether its pass verified anything; see runs/fleet/layers.py."""

    PRE_EXISTING = layers.PRE_EXISTING, "pre-existing"
    INFRASTRUCTURE = layers.INFRASTRUCTURE, "infrastructure"
    AGENT = layers.AGENT, "agent"
    UNVERIFIABLE = layers.UNVERIFIABLE, "unverifiable"
    VERIFIED = layers.VERIFIED, "verified"


class Attempt(models.Model):
    """One agent session (one MLflow trace) on one repository for one migration."""

    trace_id = models.CharField(max_length=100, unique=True)
    experiment_id = models.CharField(max_length=100, blank=True)
    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="attempts")
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField(default=1)
    phase = models.CharField(max_length=20, choices=Phase.choices, default=Phase.MIGRATION)
    prompt_revision = models.ForeignKey(
        PromptRevision, null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, db_index=True)
    layer = models.CharField(
        max_length=20,
        choices=Layer.choices,
        blank=True,
        db_index=True,
        help_text="Where its failure comes from, or whether its pass verified anything; blank while running.",
    )
    trace_state = models.CharField(max_length=20, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.BigIntegerField(null=True, blank=True)
    llm_calls = models.PositiveIntegerField(default=0)
    input_tokens = models.BigIntegerField(null=True, blank=True)
    output_tokens = models.BigIntegerField(null=True, blank=True)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    pr_url = models.URLField(max_length=500, blank=True)
    problems = models.JSONField(default=list, blank=True, help_text="What was missing or damaged in the trace.")
    span_tree = models.JSONField(default=list, blank=True, help_text="Compact span outline for the trace view.")
    fingerprint = models.CharField(max_length=64, blank=True, help_text="Hash of the imported content.")
    imported_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["migration", "repository", "phase", "number"]
        indexes = [
            models.Index(fields=["migration", "repository", "phase", "number"]),
            models.Index(fields=["migration", "outcome"]),
            models.Index(fields=["migration", "ended_at"]),
            # The review queue, oldest first: passing migration attempts in the order they ended, across migrations;
            # with the id, its count reads the index alone.
            models.Index(fields=["outcome", "phase", "ended_at", "id"], name="attempt_outcome_phase_ended"),
        ]

    def __str__(self) -> str:
        return f"{self.repository} #{self.number} ({self.phase})"


class VerifierResult(models.Model):
    """One call to a verifier (build, tests, linters) inside an attempt, in order."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="verifier_results")
    position = models.PositiveIntegerField()
    span_id = models.CharField(max_length=100, blank=True)
    span_name = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=40, help_text="maven, gradle, npm, pytest, go, cargo, ...")
    passed = models.BooleanField()
    exit_code = models.IntegerField(null=True, blank=True)
    command = models.TextField(blank=True)
    output = models.TextField(blank=True, help_text="Raw output, capped: head and tail are kept.")
    output_size = models.BigIntegerField(default=0, help_text="Size in bytes of the original output.")
    output_truncated = models.BooleanField(default=False)
    snippet = models.TextField(blank=True, help_text="The lines that say why it failed.")
    signature = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [models.UniqueConstraint(fields=["attempt", "position"], name="unique_verifier_position")]

    def __str__(self) -> str:
        return f"{self.kind} {'passed' if self.passed else 'failed'}"


class Verdict(models.TextChoices):
    APPROVE = "approve", "approve"
    REJECT = "reject", "reject"
    VETO = "veto", "veto"


class JudgeVerdict(models.Model):
    """The LLM judge's verdict on an attempt's change."""

    attempt = models.OneToOneField(Attempt, on_delete=models.CASCADE, related_name="judge")
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    rationale = models.TextField(blank=True)
    source = models.CharField(max_length=20, default="span", help_text="span or assessment")

    def __str__(self) -> str:
        return self.verdict

    @property
    def approved(self) -> bool:
        return self.verdict == Verdict.APPROVE


class RepositoryState(models.TextChoices):
    NOT_STARTED = "not_started", "not started"
    IN_PROGRESS = "in_progress", "in progress"
    SUCCEEDED = "succeeded", "succeeded"
    # Its latest attempt passed but its verifier verified nothing (layer unverifiable): not a success until a
    # reviewer reads the change closely or a later attempt passes verified.
    UNVERIFIED = "unverified", "passed, verified nothing"
    VERIFY_FAILED = "verify_failed", "verifier failed"
    JUDGE_REJECTED = "judge_rejected", "judge rejected"
    AGENT_ERROR = "agent_error", "agent error"
    NO_CHANGE = "no_change", "no change"


class Target(models.Model):
    """A repository in a migration: its state, derived from its latest attempt and baseline."""

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="targets")
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="targets")
    state = models.CharField(max_length=20, choices=RepositoryState.choices, default=RepositoryState.NOT_STARTED)
    pre_existing_failure = models.BooleanField(default=False, help_text="Its baseline failed before any change.")
    latest_attempt = models.ForeignKey(Attempt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    baseline_attempt = models.ForeignKey(Attempt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    attempts_count = models.PositiveIntegerField(default=0)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["migration", "repository__full_name"]
        constraints = [models.UniqueConstraint(fields=["migration", "repository"], name="unique_target")]
        indexes = [models.Index(fields=["migration", "state"])]

    def __str__(self) -> str:
        return f"{self.migration.slug}:{self.repository.full_name}"


class PullRequest(models.Model):
    """An agent's pull request; the GitHub sync fills its state."""

    class State(models.TextChoices):
        OPEN = "open", "open"
        CLOSED = "closed", "closed"
        MERGED = "merged", "merged"
        UNKNOWN = "unknown", "unknown"

    url = models.URLField(max_length=500, unique=True)
    repository = models.ForeignKey(Repository, on_delete=models.CASCADE, related_name="pull_requests")
    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="pull_requests")
    attempt = models.ForeignKey(Attempt, null=True, blank=True, on_delete=models.SET_NULL, related_name="pull_requests")
    # Kept by the import beside `attempt`: whether that attempt succeeded in the migration phase. The review queue
    # reads it from its partial index instead of joining every passing attempt (125,000 at full scale) to count.
    attempt_ready = models.BooleanField(default=False)
    number = models.PositiveIntegerField(null=True, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.UNKNOWN)
    draft = models.BooleanField(null=True, blank=True)
    mergeable = models.BooleanField(null=True, blank=True)
    head_sha = models.CharField(max_length=64, blank=True)
    checks = models.CharField(max_length=20, blank=True, help_text="success, failure, pending or blank")
    review = models.CharField(max_length=30, blank=True, help_text="approved, changes_requested, review_required")
    etag = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["migration", "repository"]
        indexes = [
            models.Index(fields=["migration", "state"]),
            # A repository's pull requests in one migration, newest first (dashboard funnel, repository rows).
            models.Index(fields=["migration", "repository", "-updated_at"], name="pr_repository_updated"),
            # The review queue's pull requests (open or not read yet, still drafts, of an attempt that succeeded)
            # by attempt: its count reads this index alone.
            models.Index(
                fields=["attempt", "id"],
                condition=models.Q(state__in=["open", "unknown"], attempt_ready=True)
                & (models.Q(draft=True) | models.Q(draft__isnull=True)),
                name="pr_ready_for_review",
            ),
        ]

    def __str__(self) -> str:
        return self.url

    @staticmethod
    def ready(attempt: Attempt | None) -> bool:
        """Whether a pull request of this attempt can wait for a reviewer: the attempt succeeded, as a migration."""
        return attempt is not None and attempt.outcome == Outcome.SUCCEEDED and attempt.phase == Phase.MIGRATION


class AuditEvent(models.Model):
    """Who did what to which object, and when."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_name = models.CharField(max_length=200, blank=True)
    verb = models.CharField(max_length=100)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    target_label = models.CharField(max_length=500, blank=True)
    migration = models.ForeignKey(Migration, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.verb} {self.target_label}"


from runs.fleet.counts import MigrationCounts  # noqa: E402, F401  kept counts, in their own module
