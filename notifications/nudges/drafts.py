"""Draft one Slack nudge per owning team; a team's open draft is added to, never replaced."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fleetui.common.roles import real_user
from notifications.nudges.compose import (
    intro_text,
    merge_lines,
    message_blocks,
    pr_line,
    ready_count,
    recount,
)
from notifications.nudges.models import Nudge
from notifications.nudges.plaintext import plain_to_mrkdwn
from notifications.nudges.readiness import not_ready_reasons, reason_counts, with_internal_approval
from notifications.nudges.snoozes import active_snoozes
from notifications.slack.models import SlackChannel, TeamChannel
from runs.fleet.audit import audit_event_record
from runs.fleet.models import FAILED_OUTCOMES, Migration, PullRequest, Repository, Target, Team
from triage.clusters.models import FailureCluster
from triage.clusters.selectors import cluster_repository_names

logger = logging.getLogger(__name__)

DEFAULT_DUE_DAYS = 7
DEFAULT_WHY = "Every repository has to be migrated before the old version is switched off."
CHANNEL_PACE_SECONDS = 1.1


class NudgeNotSendable(Exception):
    """The nudge is already sending, sent or cancelled."""


class DraftTextInvalid(ValueError):
    """An edited text that is empty, or too long once it is Slack mrkdwn."""


@dataclass
class TeamWithoutDraft:
    """A team with repositories chosen but no pull request a nudge may list, and why."""

    team: Team
    left_out: dict[str, int] = field(default_factory=dict)
    failing: int = 0

    left_out_prs: int = 0


@dataclass
class DraftResult:
    drafts: list[Nudge] = field(default_factory=list)
    # Drafts that existed and were added to, with the pull requests each gained.
    extended: dict[int, list[int]] = field(default_factory=dict)
    # Per extended draft: failing repositories (without a pull request) it gained.
    failing_added: dict[int, int] = field(default_factory=dict)
    # Edited drafts whose text was kept (only its count updated).
    kept_text: list[Nudge] = field(default_factory=list)
    snoozed: list[tuple[Team, datetime]] = field(default_factory=list)
    unowned: list[str] = field(default_factory=list)
    no_channel: list[Team] = field(default_factory=list)
    nothing_to_ask: list[str] = field(default_factory=list)
    without_draft: list[TeamWithoutDraft] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)
    left_out_prs: int = 0


def _target_repos(migration: Migration, repo_names: list[str] | None) -> list[Repository]:
    targets = Target.objects.filter(migration=migration).select_related("repository__team")
    if repo_names is not None:
        wanted = {n.strip().lower() for n in repo_names if n and n.strip()}
        return [t.repository for t in targets if t.repository.full_name.lower() in wanted]
    open_pr_repos = PullRequest.objects.filter(migration=migration, state=PullRequest.State.OPEN).values("repository")
    chosen = targets.filter(Q(state__in=FAILED_OUTCOMES) | Q(repository__in=open_pr_repos))
    return [t.repository for t in chosen]


def nudge_blocks(nudge: Nudge) -> tuple[str, list[dict]]:
    """Fallback text and blocks of a nudge: its (edited) intro text, then its PR lines."""
    return message_blocks(
        team=nudge.team, migration=nudge.migration, text=nudge.text, why=nudge.why, due=nudge.due, lines=nudge.lines
    )


def _open_prs(migration: Migration, repos: list[Repository], now: datetime) -> dict[int, list[tuple]]:
    """Repository id -> its open pull requests with their lines (readiness included)."""
    prs = with_internal_approval(
        PullRequest.objects.filter(
            migration=migration, state=PullRequest.State.OPEN, repository__in=[r.pk for r in repos]
        )
    ).select_related("repository", "attempt")
    by_repo: dict[int, list[tuple]] = {}
    for pr in prs.order_by("repository__full_name", "number"):
        line = pr_line(pr, now, reasons=not_ready_reasons(pr, approved=pr.internally_approved))
        by_repo.setdefault(pr.repository_id, []).append((pr, line))
    return by_repo


def _team_lines(repos, prs_by_repo, failing, include_unready) -> tuple[list[dict], list[PullRequest]]:
    lines, prs = [], []
    for repo in repos:
        for pr, line in prs_by_repo.get(repo.pk, []):
            if line["ready"] or include_unready:
                lines.append(line)
                prs.append(pr)
            else:
                lines.append({**line, "kind": "left_out"})
        if repo.pk not in prs_by_repo and repo.pk in failing:
            lines.append({"kind": "failing", "repo": repo.full_name})
    return lines, prs


def draft_lines_current(drafts: list[list[dict]], now: datetime | None = None) -> list[list[dict]]:
    """Drafts' lines with the current state and readiness of their pull requests (one query for all);
    merged or closed pull requests drop out."""
    now = now or timezone.now()
    ids = [line["pr"] for lines in drafts for line in lines if line["kind"] in ("pr", "left_out")]
    prs = with_internal_approval(PullRequest.objects.filter(pk__in=ids)).select_related("repository", "attempt")
    current = {pr.pk: pr for pr in prs}
    fresh_drafts = []
    for lines in drafts:
        fresh = []
        for line in lines:
            if line["kind"] not in ("pr", "left_out"):
                fresh.append(line)
                continue
            pr = current.get(line["pr"])
            if pr is None or pr.state != PullRequest.State.OPEN:
                continue
            reasons = not_ready_reasons(pr, approved=pr.internally_approved)
            fresh.append({**pr_line(pr, now, reasons=reasons), "kind": line["kind"]})
        fresh_drafts.append(fresh)
    return fresh_drafts


def nudge_lines_apply(nudge: Nudge, lines: list[dict]) -> Nudge:
    """The draft (unsaved) with these current lines, and its intro's count of ready PRs to match."""
    nudge.text = recount(nudge.text, before=ready_count(nudge.lines), after=ready_count(lines))
    nudge.lines = lines
    return nudge


def nudge_lines_refresh(nudge: Nudge, now: datetime | None = None) -> Nudge:
    """The draft (unsaved) as it would be sent now: current PR states, and its intro's count to match."""
    (fresh,) = draft_lines_current([nudge.lines], now)
    return nudge_lines_apply(nudge, fresh)


def nudge_drafts_create(
    *,
    migration: Migration,
    user,
    repo_names: list[str] | None = None,
    due: date | None = None,
    why: str | None = None,
    include_unready: bool = False,
) -> DraftResult:
    """One draft per owning team for the chosen repositories (default: failing or open-PR ones).

    Only pull requests ready to merge are listed unless `include_unready`; the rest are kept on the draft
    as left out, with the reasons. A team's open draft gains the new pull requests (each once) instead of
    being replaced; a team with no pull request to list gets no draft. Snoozed teams are skipped.
    """
    now = timezone.now()
    result = DraftResult()
    repos = _target_repos(migration, repo_names)
    prs_by_repo = _open_prs(migration, repos, now)
    failing = set(
        Target.objects.filter(
            migration=migration, repository__in=[r.pk for r in repos], state__in=FAILED_OUTCOMES
        ).values_list("repository_id", flat=True)
    )
    by_team: dict[int, list[Repository]] = {}
    teams: dict[int, Team] = {}
    for repo in sorted(repos, key=lambda r: r.full_name):
        if repo.team_id is None:
            result.unowned.append(repo.full_name)
            continue
        if repo.pk not in prs_by_repo and repo.pk not in failing:
            result.nothing_to_ask.append(repo.full_name)
            continue
        teams[repo.team_id] = repo.team
        by_team.setdefault(repo.team_id, []).append(repo)
    snoozed = active_snoozes(migration=migration, now=now)
    channels = {
        tc.team_id: tc.channel for tc in TeamChannel.objects.filter(team__in=list(by_team)).select_related("channel")
    }
    for team_id in sorted(by_team, key=lambda t: teams[t].slug):
        team = teams[team_id]
        if team_id in snoozed:
            result.snoozed.append((team, snoozed[team_id]))
            continue
        lines, prs = _team_lines(by_team[team_id], prs_by_repo, failing, include_unready)
        nudge = _draft_for_team(
            result,
            migration=migration,
            team=team,
            channel=channels.get(team_id),
            user=user,
            lines=lines,
            prs=prs,
            repos=by_team[team_id],
            due=due,
            why=why,
            now=now,
        )
        # Left out by this request: not listed now (an open draft may list some already, by an owner's choice).
        asked = {line["pr"] for line in lines if line["kind"] == "left_out"}
        kept = nudge.lines if nudge is not None else lines
        left = [line for line in kept if line["kind"] == "left_out" and line["pr"] in asked]
        left_out = reason_counts(left)
        result.left_out_prs += len(left)
        for reason, count in left_out.items():
            result.left_out[reason] = result.left_out.get(reason, 0) + count
        if nudge is None:
            failing_count = sum(1 for line in lines if line["kind"] == "failing")
            result.without_draft.append(
                TeamWithoutDraft(team=team, left_out=left_out, failing=failing_count, left_out_prs=len(left))
            )
            continue
        if nudge.channel is None:
            result.no_channel.append(team)
        result.drafts.append(nudge)
    if user is not None:
        audit_event_record(
            actor=user,
            verb="nudge.drafted",
            migration=migration,
            data={
                "drafts": [n.pk for n in result.drafts],
                "teams": [n.team.slug for n in result.drafts],
                "extended": {str(pk): added for pk, added in result.extended.items()},
                "left_out": result.left_out,
                "include_unready": include_unready,
                "without_draft": [t.team.slug for t in result.without_draft],
            },
        )
    return result


def _intro_for(nudge: Nudge, lines: list[dict], *, due: date | None = None) -> tuple[str, bool]:
    """The draft's intro for new lines (and a new due date), and whether the owner had edited it: an intro as
    drafted is written again; an edited one keeps the owner's words, only its count of ready PRs follows."""
    team, migration = nudge.team, nudge.migration
    generated = intro_text(team=team, migration=migration, why=nudge.why, due=nudge.due, lines=nudge.lines)
    if nudge.text.strip() == generated.strip():
        return intro_text(team=team, migration=migration, why=nudge.why, due=due or nudge.due, lines=lines), False
    return recount(nudge.text, before=ready_count(nudge.lines), after=ready_count(lines)), True


def _draft_for_team(result, *, migration, team, channel, user, lines, prs, repos, due, why, now) -> Nudge | None:
    """Add the lines to the team's open draft, or start one; None when there is no pull request to list."""
    with transaction.atomic():
        existing = (
            Nudge.objects.select_for_update()
            .filter(migration=migration, team=team, status=Nudge.Status.DRAFT)
            .order_by("-created_at", "-id")
            .first()
        )
        if existing is None:
            if not any(line["kind"] == "pr" for line in lines):
                return None
            draft_due = due or (timezone.localdate() + timedelta(days=DEFAULT_DUE_DAYS))
            draft_why = (why or migration.description or DEFAULT_WHY).strip()
            nudge = Nudge.objects.create(
                migration=migration,
                team=team,
                channel=channel,
                text=intro_text(team=team, migration=migration, why=draft_why, due=draft_due, lines=lines),
                why=draft_why,
                due=draft_due,
                lines=lines,
                created_by=real_user(user),
            )
        else:
            nudge = existing
            (old,) = draft_lines_current([nudge.lines], now)
            merged, added = merge_lines(old, lines)
            if not any(line["kind"] == "pr" for line in merged):
                return None
            nudge.text, edited = _intro_for(nudge, merged, due=due)
            nudge.due = due or nudge.due
            if edited:
                result.kept_text.append(nudge)
            nudge.lines = merged
            nudge.channel = nudge.channel or channel
            result.extended[nudge.pk] = added
            failing_before = {line["repo"] for line in old if line["kind"] == "failing"}
            result.failing_added[nudge.pk] = sum(
                1 for line in merged if line["kind"] == "failing" and line["repo"] not in failing_before
            )
            nudge.save()
            prs = PullRequest.objects.filter(pk__in=[line["pr"] for line in merged if line["kind"] == "pr"])
        nudge.pull_requests.set(prs)
        nudge.repositories.add(*repos)
        nudge.text, nudge.blocks = nudge_blocks(nudge)
        nudge.save(update_fields=["text", "blocks", "updated_at"])
    return nudge


def nudge_draft_update(*, nudge: Nudge, text: str, user) -> Nudge:
    """Save an owner's edit of a draft's plain text (as Slack mrkdwn) and rebuild its blocks."""
    if nudge.status != Nudge.Status.DRAFT:
        raise NudgeNotSendable(f"nudge {nudge.pk} is {nudge.status}, not a draft")
    before = nudge.text
    mrkdwn = plain_to_mrkdwn(text.strip())
    if not mrkdwn:
        raise DraftTextInvalid("The text is required.")
    if len(mrkdwn) > 3000:
        raise DraftTextInvalid(f"The text is {len(mrkdwn)} characters once sent to Slack; at most 3000 fit.")
    nudge.text = mrkdwn
    nudge.text, nudge.blocks = nudge_blocks(nudge)
    nudge.save(update_fields=["text", "blocks", "updated_at"])
    if nudge.text != before:
        audit_event_record(
            actor=user,
            verb="nudge.edited",
            target=nudge,
            migration=nudge.migration,
            data={"chars_before": len(before), "chars_after": len(nudge.text)},
        )
    return nudge


def nudge_draft_leave_out_unready(*, nudge: Nudge, user) -> int:
    """Move a draft's listed pull requests that are not ready to merge to its left-out ones; how many moved.

    Refused (NudgeNotSendable) when the nudge is no longer a draft, and (DraftTextInvalid) when no ready
    pull request would remain: such a draft is cancelled instead.
    """
    with transaction.atomic():
        nudge = Nudge.objects.select_for_update().select_related("team", "migration").get(pk=nudge.pk)
        if nudge.status != Nudge.Status.DRAFT:
            raise NudgeNotSendable(f"nudge {nudge.pk} is {nudge.status}, not a draft")
        (fresh,) = draft_lines_current([nudge.lines])
        moved = [line["pr"] for line in fresh if line["kind"] == "pr" and not line["ready"]]
        if not moved:
            return 0
        if not any(line["kind"] == "pr" and line["ready"] for line in fresh):
            raise DraftTextInvalid("No pull request of this draft is ready to merge: cancel it instead.")
        lines = [{**line, "kind": "left_out"} if line.get("pr") in moved else line for line in fresh]
        nudge.text, _ = _intro_for(nudge, lines)
        nudge.lines = lines
        nudge.text, nudge.blocks = nudge_blocks(nudge)
        nudge.save(update_fields=["lines", "text", "blocks", "updated_at"])
        nudge.pull_requests.remove(*moved)
    audit_event_record(
        actor=user, verb="nudge.narrowed", target=nudge, migration=nudge.migration, data={"left_out": moved}
    )
    return len(moved)


def team_drafts_channel_update(*, team_id: int, channel: SlackChannel | None) -> int:
    """Point a team's open drafts at the channel just set for it; returns how many changed.

    Only drafts move: a nudge that is sending, sent, failed or cancelled keeps the channel it had. A team
    left without a channel leaves its drafts as they are.
    """
    if channel is None:
        return 0
    return (
        Nudge.objects.filter(team_id=team_id, status=Nudge.Status.DRAFT)
        .exclude(channel=channel)
        .update(channel=channel, updated_at=timezone.now())
    )


def nudge_cancel(*, nudge: Nudge, user) -> bool:
    """Cancel an unsent draft."""

    done = Nudge.objects.filter(pk=nudge.pk, status__in=[Nudge.Status.DRAFT, Nudge.Status.FAILED]).update(
        status=Nudge.Status.CANCELLED
    )
    if done:
        audit_event_record(actor=user, verb="nudge.cancelled", target=nudge, migration=nudge.migration)
    return bool(done)


def cluster_repo_names(*, migration: Migration, cluster_id: int) -> list[str] | None:
    """Repositories of one of the migration's failure clusters, or None when it has no such cluster."""

    if not FailureCluster.objects.filter(pk=cluster_id, migration=migration).exists():
        return None
    return cluster_repository_names(cluster_id)
