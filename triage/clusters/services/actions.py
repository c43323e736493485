"""Triage actions on clusters: status, title, notes, assignee, merge and split; each writes an audit event."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from fleetui.common.roles import MIGRATION_OWNER, user_has_role
from runs.fleet.audit import audit_event_record
from triage.clusters.models import ClusterMember, FailureCluster
from triage.clusters.services.common import clusters_refresh_counts, representation_from_members
from triage.engine.causes import cause_of
from triage.engine.clustering import FailureText, cluster_failures

_UNSET: Any = object()


class TriageError(ValueError):
    """A triage action that cannot be done as asked (the message says why)."""


def user_can_triage(user) -> bool:
    """Migration owners and admins change clusters; everyone else reads."""
    return user_has_role(user, MIGRATION_OWNER)


def cluster_update(
    *,
    cluster: FailureCluster,
    actor,
    status: str | None = None,
    title: str | None = None,
    notes: str | None = None,
    assignee: Any = _UNSET,
) -> FailureCluster:
    """Change status, title (which then stays on rebuilds), notes or assignee (a user or None)."""
    changes: dict[str, list] = {}
    if status is not None and status != cluster.status:
        if status not in FailureCluster.Status.values:
            raise TriageError(f"unknown status {status[:40]!r}")
        changes["status"] = [cluster.status, status]
        cluster.status = status
    if title is not None:
        title = title.strip()[:300]
        if not title:
            raise TriageError("the title must not be empty")
        if title != cluster.title:
            changes["title"] = [cluster.title, title]
            cluster.title = title
        cluster.title_locked = True
    if notes is not None and notes != cluster.notes:
        changes["notes"] = [len(cluster.notes), len(notes)]
        cluster.notes = notes
    if assignee is not _UNSET and (assignee.pk if assignee else None) != cluster.assignee_id:
        old = cluster.assignee.get_username() if cluster.assignee else None
        changes["assignee"] = [old, assignee.get_username() if assignee else None]
        cluster.assignee = assignee
    if not changes and title is None:
        return cluster
    cluster.save()
    audit_event_record(actor=actor, verb="cluster.update", target=cluster, migration=cluster.migration, data=changes)
    return cluster


def cluster_merge(*, source: FailureCluster, into: FailureCluster, actor) -> FailureCluster:
    """Move every member of `source` into `into` and delete `source`; rebuilds keep them together."""
    if source.pk == into.pk:
        raise TriageError("a cluster cannot be merged into itself")
    if source.migration_id != into.migration_id or source.kind != into.kind:
        raise TriageError("only clusters of the same migration and kind can be merged")
    with transaction.atomic():
        moved = source.members.update(cluster=into, sticky=True, why=ClusterMember.Why.MANUAL)
        # The target's own members become sticky too, so a rebuild cannot pull the merged group apart.
        into.members.update(sticky=True)
        extra = [e for e in source.exemplars if e not in into.exemplars]
        into.exemplars = list(into.exemplars) + extra
        into.cause_keys = sorted(set(into.cause_keys or []) | set(source.cause_keys or []))
        if into.cause_tokens is None or sorted(into.cause_tokens) != sorted(source.cause_tokens or []):
            into.cause_tokens = None
        if source.first_seen_at and (into.first_seen_at is None or source.first_seen_at < into.first_seen_at):
            into.first_seen_at = source.first_seen_at
        into.save()
        audit_event_record(
            actor=actor,
            verb="cluster.merge",
            target=into,
            migration=into.migration,
            data={"source": source.pk, "source_title": source.title[:200], "members": moved},
        )
        source.delete()
        clusters_refresh_counts(cluster_ids=[into.pk])
    into.refresh_from_db()
    return into


def cluster_split(*, cluster: FailureCluster, trace_ids: list[str], actor) -> FailureCluster:
    """Move the members with these trace ids out into a new cluster; rebuilds keep them there."""
    wanted = {t for t in trace_ids if t}
    members = list(cluster.members.filter(attempt__trace_id__in=wanted).select_related("attempt", "repository"))
    if not members:
        raise TriageError("none of these trace ids is a member of the cluster")
    if len(members) == cluster.members.count():
        raise TriageError("splitting out every member would leave the cluster empty")
    with transaction.atomic():
        # Only for a title and top terms: the group itself is what the person chose.
        found = cluster_failures([_as_text(m) for m in members], threshold=1.0)
        top = found[0]
        now = timezone.now()
        new = FailureCluster.objects.create(
            migration=cluster.migration,
            kind=cluster.kind,
            key=top.key,
            title=top.title[:300] or cluster.title,
            top_terms=list(top.top_terms),
            cause_keys=list(top.causes),
            cause_tokens=list(top.tokens),
            status=FailureCluster.Status.NEW,
            first_seen_at=now,
        )
        ClusterMember.objects.filter(pk__in=[m.pk for m in members]).update(
            cluster=new, sticky=True, why=ClusterMember.Why.MANUAL, joined_at=now
        )
        for row in (new, cluster):
            representation_from_members(row)
            row.save()
        clusters_refresh_counts(cluster_ids=[new.pk, cluster.pk])
        audit_event_record(
            actor=actor,
            verb="cluster.split",
            target=new,
            migration=cluster.migration,
            data={"source": cluster.pk, "trace_ids": sorted(m.attempt.trace_id for m in members)[:100]},
        )
    new.refresh_from_db()
    return new


def _as_text(member: ClusterMember) -> FailureText:
    return FailureText(
        id=str(member.pk),
        snippet=member.snippet,
        normalized=member.normalized,
        signature=member.signature,
        kind=member.kind,
        cause=cause_of(member.deciding_line or member.snippet, repo=member.repository.full_name),
    )
