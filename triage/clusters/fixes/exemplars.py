"""How a cluster was fixed elsewhere: read the edits of its few fixing attempts from MLflow, cached per trace."""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache

from runs.imports.mlflow import TraceSource, TraceSourceUnavailable
from triage.clusters.fixes.edits import Edit, cause_terms, edits_for_cause, trace_edits
from triage.clusters.fixes.selectors import FixAttempt, cluster_fix_attempts
from triage.clusters.models import ClusterMember, FailureCluster

logger = logging.getLogger(__name__)

MAX_EXEMPLARS = 5
MAX_EDITS_SHOWN = 5
# Some fixing attempts recorded no edits (or their traces are gone): look a little further for ones that did.
CANDIDATES_PER_EXEMPLAR = 3
# A finished trace's spans do not change; a trace not found (yet) is asked for again sooner.
EDITS_CACHE_SECONDS = 24 * 3600
MISSING_CACHE_SECONDS = 300
MAX_DECIDING_LINES = 20


@dataclass
class Fix:
    """One repository where the cause was fixed: its passing attempt and the edits it made."""

    repo: str
    migration: str
    trace_id: str
    attempt: int
    failed_trace_id: str
    edits: list[Edit]
    touches_cause: bool

    def as_dict(self) -> dict:
        return {
            "repo": self.repo,
            "migration": self.migration,
            "trace_id": self.trace_id,
            "attempt": self.attempt,
            "touches_cause": self.touches_cause,
            "edits": [edit.as_dict() for edit in self.edits],
        }


@dataclass
class ClusterFixes:
    """The fixes found for a cluster, and why none could be read when MLflow did not answer."""

    fixes: list[Fix] = field(default_factory=list)
    error: str = ""


def cluster_cause_terms(*, cluster: FailureCluster) -> list[str]:
    """The names an edit fixing this cluster would mention: its cause tokens and its members' deciding lines."""
    lines = list(
        ClusterMember.objects.filter(cluster=cluster)
        .exclude(deciding_line="")
        .order_by("-score", "id")
        .values_list("deciding_line", flat=True)[:MAX_DECIDING_LINES]
    )
    if not lines and cluster.example_snippet:
        lines = cluster.example_snippet.splitlines()[-MAX_DECIDING_LINES:]
    return cause_terms(tokens=cluster.cause_tokens or [], lines=lines)


def cluster_fixes(
    *, cluster: FailureCluster, limit: int = MAX_EXEMPLARS, tracking_uri: str | None = None
) -> ClusterFixes:
    """Up to `limit` repositories whose later attempt passed, each with the edits that touched the cause."""
    candidates = cluster_fix_attempts(cluster=cluster, limit=limit * CANDIDATES_PER_EXEMPLAR)
    if not candidates:
        return ClusterFixes()
    try:
        edits = trace_edits_read(
            trace_ids=[c.attempt.trace_id for c in candidates],
            tracking_uri=tracking_uri or settings.MLFLOW_TRACKING_URI,
        )
    except TraceSourceUnavailable as exc:
        return ClusterFixes(error=str(exc))
    terms = cluster_cause_terms(cluster=cluster)
    fixes = []
    for candidate in candidates:
        found = edits.get(candidate.attempt.trace_id) or []
        if found:
            shown, touches = edits_for_cause(found, terms, limit=MAX_EDITS_SHOWN)
            fixes.append(_fix(candidate, shown, touches))
        if len(fixes) >= limit:
            break
    return ClusterFixes(fixes=fixes)


def cluster_fix(*, cluster: FailureCluster, trace_id: str) -> Fix | None:
    """The one fix of the cluster read from trace `trace_id`, or None when it is not one of its fixes."""
    for fix in cluster_fixes(cluster=cluster).fixes:
        if fix.trace_id == trace_id:
            return fix
    return None


def trace_edits_read(*, trace_ids: list[str], tracking_uri: str) -> dict[str, list[Edit]]:
    """trace id -> its edits, from the cache or else in one MLflow read; raises TraceSourceUnavailable."""
    keys = {trace_id: _cache_key(tracking_uri, trace_id) for trace_id in trace_ids}
    cached = cache.get_many(list(keys.values()))
    found: dict[str, list[Edit]] = {}
    for trace_id, key in keys.items():
        if key in cached:
            found[trace_id] = [Edit(**item) for item in cached[key]]
    missing = [trace_id for trace_id in trace_ids if trace_id not in found]
    if missing:
        traces = _source(tracking_uri).load(missing)
        for trace_id in missing:
            trace = traces.get(trace_id)
            edits = trace_edits(trace.data.spans or []) if trace is not None else []
            found[trace_id] = edits
            seconds = EDITS_CACHE_SECONDS if trace is not None else MISSING_CACHE_SECONDS
            cache.set(keys[trace_id], [edit.as_dict() for edit in edits], seconds)
        if len(traces) < len(missing):
            logger.info("%d fixing traces are not in MLflow", len(missing) - len(traces))
    return found


@functools.lru_cache(maxsize=8)
def _source(tracking_uri: str) -> TraceSource:
    # Opening a sqlite store checks its schema, which takes seconds: pages reuse one client per store.
    return TraceSource(tracking_uri)


def _cache_key(tracking_uri: str, trace_id: str) -> str:
    store = hashlib.sha256(tracking_uri.encode("utf-8", "replace")).hexdigest()[:12]
    return f"fleetui:fix-edits:v1:{store}:{hashlib.sha256(trace_id.encode('utf-8', 'replace')).hexdigest()[:32]}"


def _fix(candidate: FixAttempt, edits: list[Edit], touches: bool) -> Fix:
    attempt = candidate.attempt
    return Fix(
        repo=attempt.repository.full_name,
        migration=attempt.migration.slug,
        trace_id=attempt.trace_id,
        attempt=attempt.number,
        failed_trace_id=candidate.failed_trace_id,
        edits=edits,
        touches_cause=touches,
    )
