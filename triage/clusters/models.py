"""Failure clusters per migration, their members, and the clustering runs that build them."""

from django.conf import settings
from django.db import models

from fleetui.common.models import TrackedRun


class ClusterKind(models.TextChoices):
    VERIFY = "verify", "verifier"
    JUDGE = "judge", "judge"


class FailureCluster(models.Model):
    """A group of failures of one migration with the same cause, and what reviewers decided about it."""

    class Status(models.TextChoices):
        NEW = "new", "new"
        TRIAGED = "triaged", "triaged"
        FIX_IN_PROMPT = "fix_in_prompt", "fix in prompt"
        INFRA_FLAKY = "infra_flaky", "infra/flaky"
        PRE_EXISTING = "pre_existing", "pre-existing"
        WONT_FIX = "wont_fix", "won't fix"
        RESOLVED = "resolved", "resolved"
        REGRESSED = "regressed", "regressed"

    migration = models.ForeignKey("runs.Migration", on_delete=models.CASCADE, related_name="failure_clusters")
    kind = models.CharField(max_length=10, choices=ClusterKind.choices, default=ClusterKind.VERIFY)
    key = models.CharField(max_length=64, blank=True, help_text="The clustering algorithm's key.")
    title = models.CharField(max_length=300, blank=True)
    title_locked = models.BooleanField(default=False, help_text="A person edited the title; rebuilds keep it.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    notes = models.TextField(blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_clusters"
    )
    signature = models.CharField(max_length=64, blank=True, db_index=True)
    top_terms = models.JSONField(default=list, blank=True)
    cause_keys = models.JSONField(
        default=list, blank=True, help_text="The causes of its members: a new failure of one of them joins exactly."
    )
    cause_tokens = models.JSONField(
        null=True, blank=True, help_text="The names its cause is told apart by; null when not known."
    )
    exemplars = models.JSONField(default=list, blank=True, help_text="Normalised texts new failures are compared to.")
    example_snippet = models.TextField(blank=True)
    size = models.PositiveIntegerField(default=0)
    repos = models.PositiveIntegerField(default=0)
    agent_failures = models.PositiveIntegerField(default=0, help_text="Members whose baseline did not fail.")
    pre_existing_failures = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-size", "id"]
        indexes = [
            models.Index(fields=["migration", "status", "-size"], name="cluster_migration_status_size"),
            models.Index(fields=["migration", "-size"], name="cluster_migration_size"),
            models.Index(fields=["migration", "kind"], name="cluster_migration_kind"),
        ]

    def __str__(self) -> str:
        return self.title[:120] or f"cluster {self.pk}"

    @property
    def is_empty(self) -> bool:
        return self.size == 0


class ClusterMember(models.Model):
    """One failed attempt (its verifier failures, or its judge rejection) in a cluster."""

    class Why(models.TextChoices):
        EXACT = "exact", "same signature"
        SIMILAR = "similar", "similar text"
        ALONE = "alone", "alone"
        MANUAL = "manual", "placed by a person"

    cluster = models.ForeignKey(FailureCluster, on_delete=models.CASCADE, related_name="members")
    migration = models.ForeignKey("runs.Migration", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=ClusterKind.choices, default=ClusterKind.VERIFY)
    attempt = models.ForeignKey("runs.Attempt", on_delete=models.CASCADE, related_name="cluster_memberships")
    verifier_result = models.ForeignKey(
        "runs.VerifierResult", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    repository = models.ForeignKey("runs.Repository", on_delete=models.CASCADE, related_name="+")
    why = models.CharField(max_length=10, choices=Why.choices, default=Why.ALONE)
    score = models.FloatField(default=1.0)
    pre_existing = models.BooleanField(default=False, help_text="The repository's baseline failed too.")
    sticky = models.BooleanField(default=False, help_text="Placed by a person; re-clustering keeps it here.")
    snippet = models.TextField(blank=True)
    normalized = models.TextField(blank=True, help_text="The masked text the clustering compared.")
    deciding_line = models.TextField(blank=True, help_text="The line of the snippet that names the cause.")
    signature = models.CharField(max_length=64, blank=True)
    joined_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["cluster", "-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["migration", "attempt", "kind"], name="unique_cluster_membership")
        ]
        indexes = [
            models.Index(fields=["cluster", "joined_at"], name="member_cluster_joined"),
            # The member table's order: a page of a large cluster reads its first rows, not all of them sorted.
            models.Index(fields=["cluster", "pre_existing", "-score"], name="member_cluster_order"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id} in {self.cluster_id}"


class ClusteringRun(TrackedRun):
    """One full rebuild or incremental assignment of a migration's clusters."""

    class Mode(models.TextChoices):
        FULL = "full", "full rebuild"
        INCREMENTAL = "incremental", "incremental"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"
        SKIPPED = "skipped", "skipped"

    FINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.SKIPPED)

    migration = models.ForeignKey("runs.Migration", on_delete=models.CASCADE, related_name="clustering_runs")
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.FULL)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    failures = models.PositiveIntegerField(default=0)
    clusters = models.PositiveIntegerField(default=0)
    new_clusters = models.PositiveIntegerField(default=0)
    assigned = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta(TrackedRun.Meta):
        indexes = [models.Index(fields=["migration", "status"], name="clusteringrun_migration_status")]

    def __str__(self) -> str:
        return f"{self.mode} clustering #{self.pk} {self.status}"


class MlflowLabel(models.Model):
    """One assessment fleetui wrote on an MLflow trace, so a rewrite updates it instead of adding another."""

    class Status(models.TextChoices):
        PENDING = "pending", "not written yet"
        WRITTEN = "written", "written"
        TRACE_MISSING = "trace_missing", "trace no longer in MLflow"
        FAILED = "failed", "failed"

    trace_id = models.CharField(max_length=100)
    name = models.CharField(max_length=100, help_text="The assessment's name, e.g. fleet.cluster.")
    migration = models.ForeignKey("runs.Migration", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    cluster_id = models.PositiveIntegerField(
        null=True, blank=True, help_text="The cluster a fleet.cluster label names."
    )
    assessment_id = models.CharField(max_length=64, blank=True)
    source_id = models.CharField(max_length=200, blank=True)
    value_hash = models.CharField(max_length=64, blank=True, help_text="Of value, rationale, metadata and source.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    writes = models.PositiveIntegerField(default=0, help_text="How many times it was sent to MLflow.")
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="Set while a worker writes it.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "id"]
        constraints = [models.UniqueConstraint(fields=["trace_id", "name"], name="unique_mlflow_label")]
        indexes = [
            models.Index(fields=["migration", "status"], name="mlflowlabel_migration_status"),
            models.Index(fields=["cluster_id"], name="mlflowlabel_cluster"),
        ]

    def __str__(self) -> str:
        return f"{self.name} on {self.trace_id}"


class ClusterCounts(models.Model):
    """What the cluster pages read of a cluster's members and their attempts, counted once instead of per request.

    Written by `triage.clusters.counts` whenever members move (clustering, merge, split) and after an import that
    changed the migration's attempts; a cluster without a row is counted when a page first asks for it."""

    cluster = models.OneToOneField(
        FailureCluster, on_delete=models.CASCADE, primary_key=True, related_name="kept_counts"
    )
    members = models.PositiveIntegerField(default=0)
    usd_known = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    priced_known = models.PositiveIntegerField(default=0, help_text="Attempts with a recorded cost.")
    tokens_in = models.BigIntegerField(default=0)
    tokens_out = models.BigIntegerField(default=0)
    open_in = models.BigIntegerField(default=0, help_text="Input tokens of attempts without a recorded cost.")
    open_out = models.BigIntegerField(default=0, help_text="Output tokens of attempts without a recorded cost.")
    open_attempts = models.PositiveIntegerField(default=0, help_text="Attempts without a cost but with tokens.")
    agent_ms = models.BigIntegerField(default=0)
    layers = models.JSONField(default=dict, help_text="Layer -> members whose attempt is in it.")
    days = models.JSONField(default=dict, help_text="ISO day -> members whose failing attempt ended that day.")
    why = models.JSONField(default=dict, help_text="Why members were placed -> how many.")
    recent = models.JSONField(default=list, help_text="owner/name of the repositories that joined last, newest first.")
    counted_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "cluster counts"

    def __str__(self) -> str:
        return f"counts of cluster {self.cluster_id}"


class ClusterJoins(models.Model):
    """How many of a cluster's members joined it in one hour of the last two days (JOINS_KEPT).

    Kept beside `ClusterCounts` and counted again with it, so "clusters that grew in the last day" sums a few rows
    per cluster instead of counting every member that joined in the window (all of them right after a rebuild).
    """

    cluster = models.ForeignKey(FailureCluster, on_delete=models.CASCADE, related_name="kept_joins")
    hour = models.DateTimeField(help_text="The hour the members joined in (its start).")
    members = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "cluster joins"
        constraints = [models.UniqueConstraint(fields=["cluster", "hour"], name="cluster_joins_hour")]
        indexes = [models.Index(fields=["hour", "cluster"], name="cluster_joins_since")]

    def __str__(self) -> str:
        return f"{self.members} joined cluster {self.cluster_id} at {self.hour:%Y-%m-%d %H:00}"
