"""Draft one Slack nudge per owning team, and send each exactly once."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from notifications.clients.slack import PermanentSlackError, SlackClient, SlackRateLimitedError, TransientSlackError
from notifications.messages import PrLine, build_nudge_message, mrkdwn_escape
from notifications.models import Nudge, SlackChannel, TeamChannel, TeamSnooze
from runs.models import FAILED_OUTCOMES, Migration, PullRequest, Repository, Target, Team

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


def _pr_line(pr: PullRequest, now: datetime) -> dict:
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
                lines.append(_pr_line(pr, now))
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
                created_by=user if getattr(user, "is_authenticated", False) else None,
            )
            nudge.pull_requests.set(prs)
            nudge.repositories.set(by_team[team_id])
            nudge.text, nudge.blocks = nudge_blocks(nudge)
            nudge.save(update_fields=["text", "blocks"])
        result.drafts.append(nudge)
    if user is not None:
        from runs.services.audit import audit_event_record

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


def nudge_cancel(*, nudge: Nudge, user) -> bool:
    """Cancel an unsent draft."""
    from runs.services.audit import audit_event_record

    done = Nudge.objects.filter(pk=nudge.pk, status__in=[Nudge.Status.DRAFT, Nudge.Status.FAILED]).update(
        status=Nudge.Status.CANCELLED
    )
    if done:
        audit_event_record(actor=user, verb="nudge.cancelled", target=nudge, migration=nudge.migration)
    return bool(done)


def team_snooze(*, team: Team, until: datetime, user, migration: Migration | None = None, reason: str = ""):
    """Stop nudges to a team (for one migration or all) until a date."""
    from runs.services.audit import audit_event_record

    snooze = TeamSnooze.objects.create(
        team=team, migration=migration, until=until, reason=reason[:500], created_by=user
    )
    audit_event_record(
        actor=user, verb="team.snoozed", target=team, migration=migration, data={"until": until.isoformat()}
    )
    return snooze


# -- sending ----------------------------------------------------------------------------------------------------


def nudge_send_claim(*, nudge_id: int, user) -> bool:
    """Move a draft (or a failed nudge the owner retries) to sending; only one caller ever wins."""
    claimed = Nudge.objects.filter(pk=nudge_id, status__in=[Nudge.Status.DRAFT, Nudge.Status.FAILED]).update(
        status=Nudge.Status.SENDING,
        sent_by=user if getattr(user, "is_authenticated", False) else None,
        delivery_started_at=None,
        error="",
        updated_at=timezone.now(),
    )
    if claimed != 1:
        return False
    from runs.services.audit import audit_event_record

    nudge = Nudge.objects.select_related("migration").get(pk=nudge_id)
    audit_event_record(
        actor=user, verb="nudge.send", target=nudge, migration=nudge.migration, data={"team_id": nudge.team_id}
    )
    return True


def nudge_send_enqueue(*, nudges: list[Nudge], user) -> tuple[list[Nudge], list[Nudge]]:
    """Claim each nudge and queue its send, one channel's sends about a second apart; returns (queued, refused)."""
    from notifications.tasks import nudge_send_task

    queued, refused = [], []
    per_channel: dict[int | None, int] = {}
    for nudge in nudges:
        if not nudge_send_claim(nudge_id=nudge.pk, user=user):
            refused.append(nudge)
            continue
        slot = per_channel.get(nudge.channel_id, 0)
        per_channel[nudge.channel_id] = slot + 1
        countdown = slot * CHANNEL_PACE_SECONDS
        transaction.on_commit(lambda pk=nudge.pk, c=countdown: nudge_send_task.apply_async(args=[pk], countdown=c))
        queued.append(nudge)
    return queued, refused


def nudge_send(*, nudge_id: int, user, client: SlackClient | None = None) -> Nudge:
    """Claim and deliver at once (command line and tests); raises NudgeNotSendable when already claimed."""
    if not nudge_send_claim(nudge_id=nudge_id, user=user):
        raise NudgeNotSendable(f"nudge {nudge_id} is already sent or sending")
    return nudge_deliver(nudge_id=nudge_id, client=client)


def _fail(nudge: Nudge, reason: str) -> Nudge:
    nudge.status, nudge.error = Nudge.Status.FAILED, reason[:2000]
    nudge.save(update_fields=["status", "error", "updated_at"])
    return nudge


def _pace_channel(channel: SlackChannel) -> None:
    # About one message a second per channel, across workers: wait for the channel's last send to age.
    last = (
        Nudge.objects.filter(channel=channel, sent_at__isnull=False)
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
    ).first()
    if last is not None:
        wait = CHANNEL_PACE_SECONDS - (timezone.now() - last).total_seconds()
        if 0 < wait <= CHANNEL_PACE_SECONDS:
            time.sleep(wait)


def nudge_deliver(*, nudge_id: int, client: SlackClient | None = None) -> Nudge:
    """Post a claimed nudge once: join a public channel if needed, thread follow-ups, record ts and permalink.

    Never inside a transaction. A 429 (nothing posted) is re-raised for the task to retry; any other transient
    failure may have posted already, so the nudge is marked failed for the owner to check and retry by hand.
    """
    now = timezone.now()
    # Only one worker may call Slack for this claim, even when the task is delivered twice.
    if not Nudge.objects.filter(pk=nudge_id, status=Nudge.Status.SENDING, delivery_started_at__isnull=True).update(
        delivery_started_at=now
    ):
        return Nudge.objects.get(pk=nudge_id)
    nudge = Nudge.objects.select_related("team", "migration", "channel").get(pk=nudge_id)
    if nudge.channel is None:
        team_channel = (
            TeamChannel.objects.filter(team=nudge.team, channel__isnull=False).select_related("channel").first()
        )
        if team_channel is None:
            return _fail(nudge, f"team {nudge.team.slug} has no Slack channel yet: choose one on the unowned queue")
        nudge.channel = team_channel.channel
        nudge.save(update_fields=["channel"])
    channel = nudge.channel
    if channel.is_archived:
        return _fail(nudge, f"#{channel.name} is archived: choose another channel for the team")
    client = client or _client()
    if not channel.is_member:
        if channel.is_private:
            return _fail(nudge, _not_in_private(channel))
        try:
            client.join_channel(channel.channel_id)
        except (PermanentSlackError, TransientSlackError) as exc:
            return _fail(nudge, f"could not join #{channel.name}: {exc}")
        SlackChannel.objects.filter(pk=channel.pk).update(is_member=True)
    first = (
        Nudge.objects.filter(migration=nudge.migration, team=nudge.team, channel=channel, status=Nudge.Status.SENT)
        .exclude(pk=nudge.pk)
        .exclude(slack_ts="")
        .filter(thread_ts="")
        .order_by("sent_at", "pk")
        .first()
    )
    text, blocks = nudge_blocks(nudge)
    _pace_channel(channel)
    try:
        posted = client.post_message(
            channel.channel_id, text=text, blocks=blocks, thread_ts=first.slack_ts if first else None
        )
    except SlackRateLimitedError:
        # Slack refused before posting: release the delivery claim so the retried task can send.
        Nudge.objects.filter(pk=nudge.pk).update(delivery_started_at=None)
        raise
    except PermanentSlackError as exc:
        if exc.code == "not_in_channel":
            return _fail(nudge, _not_in_private(channel) if channel.is_private else f"not_in_channel: {exc}")
        return _fail(nudge, f"Slack refused the message: {exc}")
    except TransientSlackError as exc:
        return _fail(
            nudge,
            f"{exc} — the message may or may not have been posted; check #{channel.name} before retrying",
        )
    nudge.status, nudge.slack_ts, nudge.sent_at = Nudge.Status.SENT, posted.ts, timezone.now()
    nudge.text, nudge.blocks = text, blocks
    nudge.thread_ts = first.slack_ts if first else ""
    try:
        nudge.permalink = client.get_permalink(channel.channel_id, posted.ts)[:500]
    except (PermanentSlackError, TransientSlackError) as exc:
        logger.info("no permalink for nudge %s: %s", nudge.pk, exc)
    nudge.save()
    if first is not None:
        _refresh_first_message(first=first, client=client, follow_up=nudge)
    return nudge


def _not_in_private(channel: SlackChannel) -> str:
    return f"not_in_channel: #{channel.name} is private and the bot is not a member; invite it (/invite) and retry"


def _client() -> SlackClient:
    from notifications.services.directory import slack_client_from_settings

    return slack_client_from_settings()


def _refresh_first_message(*, first: Nudge, client: SlackClient, follow_up: Nudge) -> None:
    """Update the team's first nudge in place with the current state of its PRs."""
    now = timezone.now()
    current = {pr.pk: pr for pr in first.pull_requests.select_related("repository", "attempt")}
    lines = []
    for line in first.lines:
        pr = current.get(line.get("pr")) if line.get("kind") == "pr" else None
        if pr is not None:
            fresh = _pr_line(pr, now)
            if pr.state != PullRequest.State.OPEN:
                fresh["review"] = pr.state
            lines.append(fresh)
        else:
            lines.append(line)
    first.lines = lines
    text, blocks = nudge_blocks(first)
    try:
        client.update_message(first.channel.channel_id, first.slack_ts, text=text, blocks=blocks)
    except (PermanentSlackError, TransientSlackError) as exc:
        Nudge.objects.filter(pk=follow_up.pk).update(error=f"sent, but the first message was not updated: {exc}")
        return
    first.blocks = blocks
    first.save(update_fields=["lines", "blocks", "updated_at"])


class ClusteringUnavailable(Exception):
    """The triage app's cluster selector cannot be imported."""


def cluster_repo_names(cluster_id: int) -> list[str]:
    """Repositories of a failure cluster, through the triage app's selector."""
    try:
        from triage.selectors import cluster_repository_names
    except ImportError as exc:
        raise ClusteringUnavailable("clustering not available") from exc
    return list(cluster_repository_names(cluster_id))
