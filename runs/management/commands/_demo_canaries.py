"""Two canary reruns the demo starts on its own, so the canary loop shows without anyone starting one.

The demo's largest verifier cluster of failures the agent caused is rerun with a prompt that names its members'
fix (its canary passes and the batch expands to the rest), and the next largest with the prompt unchanged (its
canary fails the same way and the batch pauses with the reason). Both go through `rerun_batch_create` as the
demo's owner, so they are audited like any other rerun; the demo's worker runs them once it starts. Started once:
once the demo has a canary batch, nothing more starts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q

from runs.demo.canary import weak_spot
from runs.fleet.models import Layer
from runs.reruns.canary_rules import CanarySpec
from runs.reruns.models import RerunBatch, RerunPhase
from runs.reruns.runners.demo import demo_migration, demo_repo, repository_build
from runs.reruns.selection import prompt_revision_current
from runs.reruns.services import rerun_batch_create
from triage.clusters.models import ClusterKind, ClusterMember, FailureCluster

# A third of the cluster first (one of three): the demo's clusters are small, as one cause per cluster makes them.
CANARY_FRACTION = 0.3
MIN_FIXED = 0.6
SMALLEST_CLUSTER = 3  # a canary with something left to expand to
OWNER = "owner"
FIXES = 3


@dataclass(frozen=True)
class DemoCanary:
    batch: RerunBatch
    cluster: FailureCluster
    with_fix: bool


def _fixes_of(cluster: FailureCluster, migration_slug: str, prompt_text: str) -> list[str]:
    """The fix words of the weak spots the cluster's repositories come back to, most shared first (at most
    FIXES): what an owner adds to the prompt after reading the cluster."""
    demo = demo_migration(migration_slug, prompt_text)
    names = ClusterMember.objects.filter(cluster=cluster).values_list("repository__full_name", flat=True)
    causes = Counter()
    for name in names:
        build, team = repository_build(name)
        cause = weak_spot(demo_repo(name, build=build, team=team), demo)
        if cause is not None and cause.fix_keywords:
            causes[cause.fix_keywords[0]] += 1
    return [fix for fix, _ in causes.most_common(FIXES)]


def _agent_clusters() -> list[FailureCluster]:
    """The demo's largest verifier clusters whose every member failed on the agent's change (not infrastructure,
    not a failure the repository had before): what a prompt edit can fix. Largest first."""
    clusters = FailureCluster.objects.filter(kind=ClusterKind.VERIFY, repos__gte=SMALLEST_CLUSTER)
    clusters = clusters.exclude(status=FailureCluster.Status.PRE_EXISTING).annotate(
        agent=Count("members", filter=Q(members__attempt__layer=Layer.AGENT)), all=Count("members")
    )
    return list(clusters.filter(agent=F("all")).select_related("migration").order_by("-repos", "pk")[:2])


def demo_canary_batches_start() -> list[DemoCanary]:
    """Start the demo's two canary reruns; [] when it has one already, or no owner or clusters for them."""
    owner = get_user_model().objects.filter(username=OWNER).first()
    if owner is None or RerunBatch.objects.exclude(phase=RerunPhase.FULL).exists():
        return []
    clusters = _agent_clusters()
    if len(clusters) < 2:
        return []
    fixed, unchanged = clusters
    canary = CanarySpec(size=None, fraction=CANARY_FRACTION, min_fixed=MIN_FIXED, max_new_cluster_share=0.5)
    # The unchanged rerun first: it reruns the current revision, which an edit in its migration would replace.
    batch = rerun_batch_create(migration=unchanged.migration, user=owner, cluster_id=unchanged.pk, canary=canary)
    started = [DemoCanary(batch=batch, cluster=unchanged, with_fix=False)]
    current = prompt_revision_current(migration=fixed.migration)
    prompt = current.text if current is not None else ""
    fixes = _fixes_of(fixed, fixed.migration.slug, prompt)
    if fixes:
        worked = "\n".join(f"- where the build fails with {fix}: fix that cause first." for fix in fixes)
        batch = rerun_batch_create(
            migration=fixed.migration,
            user=owner,
            cluster_id=fixed.pk,
            prompt=f"{prompt}\n\nFrom the failures of the last run:\n{worked}".strip(),
            canary=canary,
        )
        started.append(DemoCanary(batch=batch, cluster=fixed, with_fix=True))
    return started
