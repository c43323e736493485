"""Read-only queries of team inboxes: teams with their open agent pull requests, and one team's inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateTimeField,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan
from django.utils import timezone

from notifications.teams.models import TeamInboxSettings
from runs.fleet.models import FAILED_OUTCOMES, Attempt, Migration, Phase, PullRequest, Team
from triage.clusters.selectors import attempt_cluster_map

OPEN = PullRequest.State.OPEN
CI_CHOICES = ("success", "failure", "pending", "none")
REVIEW_CHOICES = ("approved", "changes_requested", "review_required", "none")
# Sort keys of the two lists (a leading "-" reverses); "age" is how long ago the agent opened the pull request.
TEAM_SORTS = {"team": "slug", "open": "open_prs", "stale": "stale_prs", "age": "age_key", "channel": "channel_name"}
INBOX_SORTS = {
    "repo": "repository__full_name",
    "migration": "migration__slug",
    "age": "age_key",
    "activity": "last_action",
    "ci": "checks",
    "review": "review",
}
TEAM_DEFAULT_SORT = "-stale"
INBOX_DEFAULT_SORT = "-age"


def default_stale_days() -> int:
    return settings.FLEETUI_STALE_DAYS


def team_settings_get(*, team: Team) -> TeamInboxSettings:
    """The team's inbox settings, unsaved defaults when it has none yet."""
    found = TeamInboxSettings.objects.select_related("escalation_channel").filter(team=team).first()
    return found or TeamInboxSettings(team=team)


def team_stale_days(*, team_settings: TeamInboxSettings) -> int:
    return team_settings.stale_days or default_stale_days()


def _last_action(prefix: str = ""):
    # GitHub's updated_at moves on every push, review, comment and CI status; before a sync, the agent's end.
    return Coalesce(f"{prefix}updated_at", f"{prefix}attempt__ended_at", f"{prefix}synced_at")


def _opened(prefix: str = ""):
    return Coalesce(f"{prefix}attempt__ended_at", f"{prefix}updated_at", f"{prefix}synced_at")


def _ordered(rows: QuerySet, sorts: dict[str, str], order: str, default: str, tie: str) -> QuerySet:
    key = order if order.lstrip("-") in sorts else default
    field = sorts[key.lstrip("-")]
    expression = F(field).desc(nulls_last=True) if key.startswith("-") else F(field).asc(nulls_last=True)
    return rows.order_by(expression, tie)


def team_list(*, search: str = "", order: str = TEAM_DEFAULT_SORT, now: datetime | None = None) -> QuerySet[Team]:
    """Every team with its open agent pull requests, stale ones (by its own threshold), oldest opening and channel.

    One query whatever the number of teams and pull requests (plus one for the distinct thresholds).
    """
    now = now or timezone.now()
    overrides = sorted(
        set(TeamInboxSettings.objects.exclude(stale_days=None).values_list("stale_days", flat=True).distinct())
    )
    cutoff = Case(
        *[When(inbox_settings__stale_days=days, then=Value(now - timedelta(days=days))) for days in overrides],
        default=Value(now - timedelta(days=default_stale_days())),
        output_field=DateTimeField(),
    )
    is_open = Q(repositories__pull_requests__state=OPEN)
    teams = Team.objects.annotate(
        open_prs=Count("repositories__pull_requests", filter=is_open),
        stale_prs=Count(
            "repositories__pull_requests",
            filter=is_open & Q(LessThan(_last_action("repositories__pull_requests__"), cutoff)),
        ),
        oldest_opened_at=Min(_opened("repositories__pull_requests__"), filter=is_open),
        # Sorting by age puts the oldest first: an earlier opening is a larger age.
        age_key=Value(now) - F("oldest_opened_at"),
        channel_name=F("slack_channel__channel__name"),
        stale_days_override=F("inbox_settings__stale_days"),
        digest_enabled=Coalesce(F("inbox_settings__digest_enabled"), Value(False), output_field=BooleanField()),
        escalation_channel_name=F("inbox_settings__escalation_channel__name"),
    )
    if search:
        teams = teams.filter(Q(slug__icontains=search) | Q(name__icontains=search))
    return _ordered(teams, TEAM_SORTS, order, TEAM_DEFAULT_SORT, "slug")


@dataclass(frozen=True)
class InboxFilters:
    migration: str = ""
    ci: str = ""
    review: str = ""
    stale_only: bool = False
    order: str = INBOX_DEFAULT_SORT


def team_inbox(
    *, team: Team, stale_days: int, filters: InboxFilters = InboxFilters(), now: datetime | None = None
) -> QuerySet[PullRequest]:
    """The team's open agent pull requests in every migration, each with its opening, last activity and the
    repository's latest failed attempt in that migration (for its cluster)."""
    now = now or timezone.now()
    latest_failure = (
        Attempt.objects.filter(
            migration=OuterRef("migration_id"),
            repository=OuterRef("repository_id"),
            phase=Phase.MIGRATION,
            outcome__in=FAILED_OUTCOMES,
        )
        .order_by("-number", "-pk")
        .values("pk")[:1]
    )
    rows = (
        PullRequest.objects.filter(repository__team=team, state=OPEN)
        .select_related("repository", "migration")
        .annotate(
            opened_at=_opened(),
            last_action=_last_action(),
            age_key=Value(now) - _opened(),
            latest_failure_id=Subquery(latest_failure),
        )
    )
    if filters.migration:
        rows = rows.filter(migration__slug=filters.migration)
    if filters.ci:
        rows = rows.filter(checks="" if filters.ci == "none" else filters.ci)
    if filters.review:
        rows = rows.filter(review__in=["", "none"] if filters.review == "none" else [filters.review])
    if filters.stale_only:
        rows = rows.filter(last_action__lt=now - timedelta(days=stale_days))
    return _ordered(rows, INBOX_SORTS, filters.order, INBOX_DEFAULT_SORT, "pk")


@dataclass(frozen=True)
class InboxRow:
    pr: PullRequest
    stale: bool
    age_days: int
    last_activity_at: datetime | None
    cluster_id: int | None = None
    cluster_title: str = ""


def inbox_rows(prs: list[PullRequest], *, stale_days: int, now: datetime | None = None) -> list[InboxRow]:
    """A page of `team_inbox` with the stale flag, ages and clusters (one query for the clusters)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=stale_days)
    members = attempt_cluster_map(attempt_ids=[pr.latest_failure_id for pr in prs if pr.latest_failure_id])
    rows = []
    for pr in prs:
        member = members.get(pr.latest_failure_id) if pr.latest_failure_id else None
        rows.append(
            InboxRow(
                pr=pr,
                stale=pr.last_action is not None and pr.last_action < cutoff,
                age_days=max(0, (now - pr.opened_at).days) if pr.opened_at else 0,
                last_activity_at=pr.last_action,
                cluster_id=member.cluster.pk if member else None,
                cluster_title=str(member.cluster) if member else "",
            )
        )
    return rows


def team_inbox_migrations(*, team: Team) -> list[Migration]:
    """The migrations in which the team has an open agent pull request, for the filter."""
    return list(
        Migration.objects.filter(pull_requests__repository__team=team, pull_requests__state=OPEN)
        .distinct()
        .order_by("slug")
        .only("id", "slug", "title")
    )


def team_stale_prs(*, team: Team, stale_days: int, now: datetime | None = None) -> QuerySet[PullRequest]:
    """The team's stale open pull requests, least recently active first, with their last activity."""
    return team_inbox(
        team=team, stale_days=stale_days, filters=InboxFilters(stale_only=True, order="activity"), now=now
    )


def inbox_line(row: InboxRow) -> dict:
    """A pull request as a digest or an escalation lists it (plain data, kept as the message's snapshot)."""
    pr = row.pr
    return {
        "pr": pr.pk,
        "repo": pr.repository.full_name,
        "url": pr.url,
        "number": pr.number or 0,
        "migration": pr.migration.title or pr.migration.slug,
        "age_days": row.age_days,
        "checks": pr.checks or "none",
        "review": pr.review or "none",
        "stale": row.stale,
    }


def team_inbox_lines(*, team: Team, stale_days: int, stale_only: bool = False) -> list[dict]:
    """Every open agent pull request of the team (or only the stale ones) as message lines."""
    now = timezone.now()
    filters = InboxFilters(stale_only=stale_only, order="activity")
    prs = list(team_inbox(team=team, stale_days=stale_days, filters=filters, now=now))
    return [inbox_line(row) for row in inbox_rows(prs, stale_days=stale_days, now=now)]
