"""Which repositories a rerun request selects, and the prompt revision it runs with."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Max, Q

from fleetui.common.roles import real_user
from runs.fleet.models import Migration, PromptRevision, Target
from runs.reruns.models import ACTIVE_STATES, RerunItem, RerunPhase, RerunState
from triage.clusters.models import FailureCluster
from triage.clusters.selectors import attempt_clusters, cluster_repository_names


class RerunRefused(Exception):
    """The request cannot become a batch (too large, nothing to run, unknown cluster); the message says why."""


@dataclass
class Selection:
    """The targets to rerun, in order, with what was left out and why."""

    targets: list[Target]
    skipped: list[dict[str, str]] = field(default_factory=list)
    source_clusters: dict[int, int] = field(default_factory=dict)


def reserved_items() -> Q:
    """Items that hold their repository: queued or running, or held for a canary still running.

    A paused canary's held items do not: the owner may rerun those repositories with another prompt.
    """
    return Q(state__in=ACTIVE_STATES) | Q(state=RerunState.HELD, batch__phase=RerunPhase.CANARY)


def _unique(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for name in names:
        name = name.strip()
        if name and name not in seen:
            seen.add(name)
            out.append(name)
    return out


def rerun_selection_resolve(
    *,
    migration: Migration,
    repos: list[str] | None = None,
    cluster_id: int | None = None,
    exclude: list[str] | None = None,
    include_pre_existing: bool = False,
) -> Selection:
    """Repositories named, or the members of a cluster except `exclude`; pre-existing failures and
    repositories already queued or running for this migration are left out and reported."""
    excluded = set(_unique(exclude or []))
    names = _unique(repos or [])
    if cluster_id is not None:
        if not FailureCluster.objects.filter(pk=cluster_id, migration=migration).exists():
            raise RerunRefused(f"cluster {cluster_id} is not a cluster of {migration.slug}")
        names = _unique(names + cluster_repository_names(cluster_id, exclude=list(excluded), include_pre_existing=True))
    if not names:
        raise RerunRefused("select at least one repository, or a cluster")
    skipped: list[dict[str, str]] = []
    wanted = [n for n in names if n not in excluded]
    skipped += [{"repo": n, "reason": "excluded"} for n in names if n in excluded]

    by_name = {
        t.repository.full_name: t
        for t in Target.objects.filter(migration=migration, repository__full_name__in=wanted)
        .select_related("repository", "latest_attempt")
        # The preview shows each latest attempt's number and link; its trace outline and problems are the
        # largest columns of the row and are not read.
        .defer("latest_attempt__span_tree", "latest_attempt__problems")
    }
    busy = dict(
        RerunItem.objects.filter(
            reserved_items(), migration=migration, repository__full_name__in=list(by_name)
        ).values_list("repository__full_name", "batch_id")
    )
    targets = []
    for name in wanted:
        target = by_name.get(name)
        if target is None:
            skipped.append({"repo": name, "reason": f"not a repository of {migration.slug}"})
        elif target.pre_existing_failure and not include_pre_existing:
            skipped.append({"repo": name, "reason": "pre-existing failure: its baseline failed before any change"})
        elif name in busy:
            skipped.append(
                {"repo": name, "reason": f"already queued, running or held for a canary in rerun #{busy[name]}"}
            )
        else:
            targets.append(target)
    if not targets:
        raise RerunRefused("nothing to rerun: " + "; ".join(f"{s['repo']}: {s['reason']}" for s in skipped[:5]))
    if len(targets) > settings.RERUN_MAX_BATCH:
        raise RerunRefused(
            f"{len(targets)} repositories selected; a rerun takes at most {settings.RERUN_MAX_BATCH} "
            "(RERUN_MAX_BATCH): narrow the selection or split it"
        )
    return Selection(targets=targets, skipped=skipped, source_clusters=_source_clusters(targets, cluster_id))


def _source_clusters(targets: list[Target], cluster_id: int | None) -> dict[int, int]:
    """Repository id -> the cluster its latest failure is in (the chosen cluster when one was chosen)."""
    if cluster_id is not None:
        return {t.repository_id: cluster_id for t in targets}

    by_attempt = attempt_clusters(attempt_ids=[t.latest_attempt_id for t in targets if t.latest_attempt_id])
    return {t.repository_id: by_attempt[t.latest_attempt_id] for t in targets if t.latest_attempt_id in by_attempt}


def normalize_prompt(text: str) -> str:
    """Browsers send CRLF line ends; store LF so the same text always hashes the same."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def prompt_revision_current(*, migration: Migration) -> PromptRevision | None:
    return PromptRevision.objects.filter(migration=migration).order_by("-number").first()


def prompt_revision_ensure(*, migration: Migration, text: str | None, user) -> tuple[PromptRevision | None, bool]:
    """The revision holding `text`: the current one when the text is unchanged, else a new numbered one.

    Returns (revision, created). Call inside a transaction that holds the migration's row lock.
    """
    current = prompt_revision_current(migration=migration)
    if text is None or not text.strip():
        return current, False
    text = normalize_prompt(text)
    digest = PromptRevision.hash_text(text)
    if current is not None and (current.text_hash or PromptRevision.hash_text(current.text)) == digest:
        return current, False
    number = (PromptRevision.objects.filter(migration=migration).aggregate(n=Max("number"))["n"] or 0) + 1
    author = real_user(user)
    revision = PromptRevision.objects.create(
        migration=migration,
        number=number,
        text=text,
        text_hash=digest,
        author=author,
        author_name=author.get_username() if author else "",
    )
    return revision, True


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "hunk", "same" or "head"
    text: str


def prompt_diff(old: str, new: str, *, old_label: str = "current", new_label: str = "edited") -> list[DiffLine]:
    """The unified diff between two prompt texts, line by line with its kind (rendered escaped)."""
    lines = difflib.unified_diff(
        normalize_prompt(old).splitlines(),
        normalize_prompt(new).splitlines(),
        fromfile=old_label,
        tofile=new_label,
        lineterm="",
    )
    out = []
    for line in lines:
        if line.startswith(("+++", "---")):
            kind = "head"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        out.append(DiffLine(kind, line))
    return out
