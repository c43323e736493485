"""JSON API of team inboxes: teams with their open agent pull requests, and one team's inbox; read-only."""

from django.http import JsonResponse
from django.utils import timezone

from fleetui.common.api import ApiError, api_view, iso, paginate
from fleetui.common.untrusted import unstorable
from notifications.teams import selectors
from runs.fleet.models import Team

MAX_SEARCH = 100


def _text(request, name: str, max_length: int) -> str:
    value = request.GET.get(name, "")
    if len(value) > max_length or unstorable(value):
        raise ApiError(400, f"{name} must be at most {max_length} characters of text")
    return value


def _choice(request, name: str, allowed) -> str:
    value = request.GET.get(name, "")
    if value and value not in allowed:
        raise ApiError(400, f"{name} must be one of {', '.join(allowed)}, got {value[:40]!r}")
    return value


def _order(request, sorts: dict, default: str) -> str:
    allowed = [*sorts, *(f"-{key}" for key in sorts)]
    return _choice(request, "order", allowed) or default


def _stale_param(request) -> bool:
    value = request.GET.get("stale", "")
    if value not in ("", "true", "false"):
        raise ApiError(400, f"stale must be true or false, got {value[:40]!r}")
    return value == "true"


def team_json(team: Team, now) -> dict:
    return {
        "slug": team.slug,
        "name": team.name or team.slug,
        "open_pull_requests": team.open_prs,
        "stale_pull_requests": team.stale_prs,
        "oldest_age_days": max(0, (now - team.oldest_opened_at).days) if team.oldest_opened_at else None,
        "channel": team.channel_name,
        "stale_days": team.stale_days_override or selectors.default_stale_days(),
        "digest_enabled": bool(team.digest_enabled),
        "escalation_channel": team.escalation_channel_name,
    }


@api_view("GET")
def teams(request):
    search = _text(request, "q", MAX_SEARCH)
    order = _order(request, selectors.TEAM_SORTS, selectors.TEAM_DEFAULT_SORT)
    now = timezone.now()
    rows = selectors.team_list(search=search.strip(), order=order, now=now)
    return JsonResponse(paginate(request, rows, lambda page: [team_json(team, now) for team in page]))


def inbox_row_json(row: selectors.InboxRow) -> dict:
    pr = row.pr
    return {
        "id": pr.pk,
        "url": pr.url,
        "number": pr.number,
        "repository": pr.repository.full_name,
        "migration": pr.migration.slug,
        "state": pr.state,
        "draft": pr.draft,
        "ci": pr.checks or "none",
        "review": pr.review or "none",
        "cluster": {"id": row.cluster_id, "title": row.cluster_title} if row.cluster_id else None,
        "age_days": row.age_days,
        "last_activity_at": iso(row.last_activity_at),
        "stale": row.stale,
    }


@api_view("GET")
def team_inbox(request, slug: str):
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        raise ApiError(404, f"no team {slug[:100]}")
    migration = _text(request, "migration", 200)
    filters = selectors.InboxFilters(
        migration=migration,
        ci=_choice(request, "ci", selectors.CI_CHOICES),
        review=_choice(request, "review", selectors.REVIEW_CHOICES),
        stale_only=_stale_param(request),
        order=_order(request, selectors.INBOX_SORTS, selectors.INBOX_DEFAULT_SORT),
    )
    team_settings = selectors.team_settings_get(team=team)
    stale_days = selectors.team_stale_days(team_settings=team_settings)
    now = timezone.now()
    rows = selectors.team_inbox(team=team, stale_days=stale_days, filters=filters, now=now)
    body = paginate(
        request,
        rows,
        lambda page: map(inbox_row_json, selectors.inbox_rows(page, stale_days=stale_days, now=now)),
    )
    return JsonResponse({"team": team.slug, "stale_days": stale_days, **body})
