"""Draft one Slack nudge per owning team."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from fleetui.common.roles import real_user
from notifications.nudges.messages import PrLine, build_nudge_message, mrkdwn_escape
from notifications.nudges.models import Nudge, TeamSnooze
from notifications.slack.models import SlackChannel, TeamChannel
from runs.fleet.audit import audit_event_record
from runs.fleet.models import FAILED_OUTCOMES, Migration, PullRequest, Repository, Target, Team
from triage.clusters.models import FailureCluster
from triage.clusters.selectors import cluster_repository_names

logger = logging.getLogger(__name__)

DEFAULT_DUE_DAYS = 7
DEFAULT_WHY = "Every repository has to be migrated before the old version is switched off."
ASK = "Please review and merge these pull requests"
CHANNEL_PACE_SECONDS = 1.1
MAX_FAILING_NAMED = 10


class NudgeNotSendable(Exception):
    """The nudge is already sending, sent or cancelled."""


@dataclass
class DraftResult:
    drafts: list[Nudge] = field(default_factory=list)
    snoozed: list[tuple[Team, datetime]] = field(default_factory=list)
    unowned: list[str] = field(default_factory=list)
    no_channel: list[Team] = field(default_factory=list)
    nothing_to_ask: list[str] = field(default_factory=list)


def migration_url(migration: Migration) -> str:
    return settings.FLEETUI_BASE_URL + reverse("migration-detail", args=[migration.slug])


def pr_line(pr: PullRequest, now: datetime) -> dict:
    opened = pr.attempt.ended_at if pr.attempt_id and pr.attempt and pr.attempt.ended_at else pr.updated_at
    age = max(0, (now - opened).days) if opened else 0
    return {
        "kind": "pr",
        "pr": pr.pk,
        "repo": pr.repository.full_name,
        "url": pr.url,
        "number": pr.number or 0,
        "age_days": age,
        "checks": pr.checks or "none",
        "review": pr.review or "none",
    }


def _target_repos(migration: Migration, repo_names: list[str] | None) -> list[Repository]:
    targets = Target.objects.filter(migration=migration).select_related("repository__team")
    if repo_names is not None:
        wanted = {n.strip().lower() for n in repo_names if n and n.strip()}
        return [t.repository for t in targets if t.repository.full_name.lower() in wanted]
    open_pr_repos = PullRequest.objects.filter(migration=migration, state=PullRequest.State.OPEN).values("repository")
    chosen = targets.filter(Q(state__in=FAILED_OUTCOMES) | Q(repository__in=open_pr_repos))
    return [t.repository for t in chosen]


def active_snoozes(*, migration: Migration, now: datetime | None = None) -> dict[int, datetime]:
    """Team id -> latest snooze end for snoozes covering this migration (or every migration)."""
    now = now or timezone.now()
    snoozes = TeamSnooze.objects.filter(until__gt=now).filter(Q(migration__isnull=True) | Q(migration=migration))
    ends: dict[int, datetime] = {}
    for snooze in snoozes:
        ends[snooze.team_id] = max(ends.get(snooze.team_id, snooze.until), snooze.until)
    return ends


def nudge_blocks(nudge: Nudge) -> tuple[str, list[dict]]:
    """Fallback text and blocks of a nudge: its (edited) intro text, then its PR lines."""
    prs = [
        PrLine(
            repo=line["repo"],
            url=line["url"],
            number=line["number"],
            age_days=line["age_days"],
            checks=line["checks"],
            review=line["review"],
        )
        for line in nudge.lines
        if line.get("kind") == "pr"
    ]
    _, blocks = build_nudge_message(
        team_name=nudge.team.name or nudge.team.slug,
        migration_title=nudge.migration.title or nudge.migration.slug,
        migration_url=migration_url(nudge.migration),
        why=nudge.why,
        ask=ASK,
        due=nudge.due,
        prs=prs,
    )
    text = _neutralise_broadcasts(nudge.text)[:3000]
    # The intro section is the one the owner edits; the header and PR lines always come from the data.
    blocks[1] = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    return text, blocks


def _neutralise_broadcasts(text: str) -> str:
    # Owners edit the text; a stray <!channel> would page a whole channel, so such mentions are shown as text.
    for word in ("<!channel", "<!here", "<!everyone"):
        text = text.replace(word, "&lt;!" + word[2:])
    return text


def _intro_text(*, team: Team, migration: Migration, why: str, due: date, lines: list[dict]) -> str:
    prs = [line for line in lines if line["kind"] == "pr"]
    text, _ = build_nudge_message(
        team_name=team.name or team.slug,
        migration_title=migration.title or migration.slug,
        migration_url=migration_url(migration),
        why=why,
        ask=ASK,
        due=due,
        prs=[PrLine(p["repo"], p["url"], p["number"], p["age_days"], p["checks"], p["review"]) for p in prs],
    )
    failing = [line["repo"] for line in lines if line["kind"] == "failing"]
    if failing:
        named = ", ".join(mrkdwn_escape(name) for name in failing[:MAX_FAILING_NAMED])
        more = f" and {len(failing) - MAX_FAILING_NAMED} more" if len(failing) > MAX_FAILING_NAMED else ""
        text += f"\nThe migration also failed without a pull request in: {named}{more}. Please take a look."
    return text


def nudge_drafts_create(
    *,
    migration: Migration,
    user,
    repo_names: list[str] | None = None,
    due: date | None = None,
    why: str | None = None,
) -> DraftResult:
    """One draft per owning team for the chosen repositories (default: failing or open-PR ones); snoozed teams skip."""
    now = timezone.now()
    due = due or (timezone.localdate() + timedelta(days=DEFAULT_DUE_DAYS))
    why = (why or migration.description or DEFAULT_WHY).strip()
    result = DraftResult()
    repos = _target_repos(migration, repo_names)
    prs_by_repo: dict[int, list[PullRequest]] = {}
    open_prs = PullRequest.objects.filter(
        migration=migration, state=PullRequest.State.OPEN, repository__in=[r.pk for r in repos]
    ).select_related("repository", "attempt")
    for pr in open_prs.order_by("repository__full_name", "number"):
        prs_by_repo.setdefault(pr.repository_id, []).append(pr)
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
        lines, prs = [], []
        for repo in by_team[team_id]:
            for pr in prs_by_repo.get(repo.pk, []):
                lines.append(pr_line(pr, now))
                prs.append(pr)
            if repo.pk not in prs_by_repo:
                lines.append({"kind": "failing", "repo": repo.full_name})
        channel = channels.get(team_id)
        if channel is None:
            result.no_channel.append(team)
        with transaction.atomic():
            # A new draft replaces the team's unsent one, so the page never shows two for one team.
            Nudge.objects.filter(migration=migration, team=team, status=Nudge.Status.DRAFT).update(
                status=Nudge.Status.CANCELLED
            )
            nudge = Nudge.objects.create(
                migration=migration,
                team=team,
                channel=channel,
                text=_intro_text(team=team, migration=migration, why=why, due=due, lines=lines),
                why=why,
                due=due,
                lines=lines,
                created_by=real_user(user),
            )
            nudge.pull_requests.set(prs)
            nudge.repositories.set(by_team[team_id])
            nudge.text, nudge.blocks = nudge_blocks(nudge)
            nudge.save(update_fields=["text", "blocks"])
        result.drafts.append(nudge)
    if user is not None:
        audit_event_record(
            actor=user,
            verb="nudge.drafted",
            migration=migration,
            data={"drafts": [n.pk for n in result.drafts], "teams": [n.team.slug for n in result.drafts]},
        )
    return result


def nudge_draft_update(*, nudge: Nudge, text: str, user) -> Nudge:
    """Save an owner's edit of a draft's text and rebuild its blocks."""
    if nudge.status != Nudge.Status.DRAFT:
        raise NudgeNotSendable(f"nudge {nudge.pk} is {nudge.status}, not a draft")
    nudge.text = text.strip()[:3000]
    nudge.text, nudge.blocks = nudge_blocks(nudge)
    nudge.save(update_fields=["text", "blocks", "updated_at"])
    return nudge


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


def team_snooze(*, team: Team, until: datetime, user, migration: Migration | None = None, reason: str = ""):
    """Stop nudges to a team (for one migration or all) until a date."""

    snooze = TeamSnooze.objects.create(
        team=team, migration=migration, until=until, reason=reason[:500], created_by=user
    )
    audit_event_record(
        actor=user, verb="team.snoozed", target=team, migration=migration, data={"until": until.isoformat()}
    )
    return snooze


def cluster_repo_names(*, migration: Migration, cluster_id: int) -> list[str] | None:
    """Repositories of one of the migration's failure clusters, or None when it has no such cluster."""

    if not FailureCluster.objects.filter(pk=cluster_id, migration=migration).exists():
        return None
    return cluster_repository_names(cluster_id)
