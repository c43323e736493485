"""Pages: every team with its open agent pull requests, and one team's inbox across migrations."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fleetui.common.listing import Column, sort_headers
from fleetui.common.roles import MIGRATION_OWNER, role_required, user_has_role
from fleetui.common.untrusted import unstorable
from notifications.teams import selectors
from notifications.teams.digests import team_digest_request
from notifications.teams.escalations import escalation_candidates, team_escalation_request
from notifications.teams.forms import InboxFilterForm, TeamSettingsForm
from notifications.teams.models import TeamDigest, TeamEscalation
from notifications.teams.services import team_settings_update
from runs.fleet.models import Team

TEAM_COLUMNS = [
    Column("Team", "team", descending_first=False),
    Column("Open agent PRs", "open", css="num"),
    Column("Stale", "stale", css="num"),
    Column("Oldest", "age", css="num"),
    Column("Channel", "channel", descending_first=False),
]
INBOX_COLUMNS = [
    Column("Repository", "repo", descending_first=False, css="col-repo"),
    Column("Migration", "migration", descending_first=False),
    Column("Pull request"),
    Column("CI", "ci", descending_first=False),
    Column("Review", "review", descending_first=False),
    Column("Latest failure's cluster"),
    Column("Age", "age", css="num"),
    Column("Last activity", "activity", descending_first=False),
]
MAX_SEARCH = 100


@require_GET
def team_list(request):
    search = request.GET.get("q", "").strip()[:MAX_SEARCH]
    search = "" if unstorable(search) else search
    order = request.GET.get("order", "")
    order = order if order.lstrip("-") in selectors.TEAM_SORTS else selectors.TEAM_DEFAULT_SORT
    page = Paginator(selectors.team_list(search=search, order=order), settings.PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "nav": "teams",
        "page": page,
        "search": search,
        "headers": sort_headers(request.GET, TEAM_COLUMNS, order),
        "default_stale_days": selectors.default_stale_days(),
    }
    return render(request, "notifications/teams/list.html", context)


def _settings_form(team_settings) -> TeamSettingsForm:
    channel = team_settings.escalation_channel
    return TeamSettingsForm(
        initial={
            "digest_enabled": team_settings.digest_enabled,
            "stale_days": team_settings.stale_days,
            "escalation_channel": f"#{channel.name}" if channel else "",
        }
    )


@require_GET
def team_inbox(request, slug: str):
    team = get_object_or_404(Team, slug=slug)
    return _inbox_page(request, team, settings_form=None)


def _inbox_page(request, team: Team, *, settings_form, status: int = 200):
    team_settings = selectors.team_settings_get(team=team)
    stale_days = selectors.team_stale_days(team_settings=team_settings)
    form = InboxFilterForm(request.GET)
    filters = form.filters()
    rows = selectors.team_inbox(team=team, stale_days=stale_days, filters=filters)
    page = Paginator(rows, settings.PAGE_SIZE).get_page(request.GET.get("page"))
    can_edit = user_has_role(request.user, MIGRATION_OWNER)
    context = {
        "nav": "teams",
        "team": team,
        "team_settings": team_settings,
        "stale_days": stale_days,
        "default_stale_days": selectors.default_stale_days(),
        "filters": filters,
        "filtered": bool(filters.migration or filters.ci or filters.review or filters.stale_only),
        "migrations": selectors.team_inbox_migrations(team=team),
        "ci_choices": selectors.CI_CHOICES,
        "review_choices": selectors.REVIEW_CHOICES,
        "page": page,
        "rows": selectors.inbox_rows(list(page.object_list), stale_days=stale_days),
        "headers": sort_headers(request.GET, INBOX_COLUMNS, filters.order),
        "can_edit": can_edit,
        "settings_form": settings_form or (_settings_form(team_settings) if can_edit else None),
        "digest": TeamDigest.objects.filter(team=team).select_related("channel").order_by("-day").first(),
        "escalation": TeamEscalation.objects.filter(team=team).select_related("channel").first(),
    }
    return render(request, "notifications/teams/inbox.html", context, status=status)


@require_POST
@role_required(MIGRATION_OWNER)
def team_settings_save(request, slug: str):
    team = get_object_or_404(Team, slug=slug)
    form = TeamSettingsForm(request.POST)
    if not form.is_valid():
        return _inbox_page(request, team, settings_form=form, status=400)
    team_settings_update(team=team, user=request.user, **form.cleaned_data)
    messages.success(request, "Inbox settings saved.")
    return redirect("notifications:team-inbox", slug=team.slug)


@require_POST
@role_required(MIGRATION_OWNER)
def team_digest_send(request, slug: str):
    team = get_object_or_404(Team, slug=slug)
    claim = team_digest_request(team=team, user=request.user)
    if claim.kind == "digest":
        messages.success(request, "Today's digest is on its way to the team's channel.")
    elif claim.kind == "followup":
        messages.success(request, "Today's digest was sent: what changed since goes in its thread.")
    else:
        messages.info(request, "A message to this team is being sent already; nothing more was queued.")
    return redirect("notifications:team-inbox", slug=team.slug)


@require_http_methods(["GET", "POST"])
@role_required(MIGRATION_OWNER)
def team_escalate(request, slug: str):
    """GET: the stale pull requests an escalation would name, to confirm; POST with confirm: escalate them."""
    team = get_object_or_404(Team, slug=slug)
    team_settings = selectors.team_settings_get(team=team)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        escalation = team_escalation_request(team=team, team_settings=team_settings, user=request.user)
        if escalation is None:
            messages.info(request, "Nothing to escalate: every stale pull request was escalated in its stale period.")
        else:
            channel = team_settings.escalation_channel
            messages.success(request, f"{escalation.items.count()} stale pull request(s) escalated to #{channel.name}.")
        return redirect("notifications:team-inbox", slug=team.slug)
    candidates = escalation_candidates(team=team, team_settings=team_settings) if team_settings.pk else []
    context = {
        "nav": "teams",
        "team": team,
        "team_settings": team_settings,
        "stale_days": selectors.team_stale_days(team_settings=team_settings),
        "rows": selectors.inbox_rows(candidates, stale_days=selectors.team_stale_days(team_settings=team_settings)),
        "confirm_missing": request.method == "POST",
    }
    return render(request, "notifications/teams/escalate.html", context)
