"""Pages: nudge drafts, sending and editing them, snoozing a team, and the nudge history."""

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from fleetui.common.redirects import next_url_or
from fleetui.common.roles import MIGRATION_OWNER, role_required
from notifications.nudges import selectors
from notifications.nudges.drafts import (
    NudgeNotSendable,
    cluster_repo_names,
    nudge_blocks,
    nudge_cancel,
    nudge_draft_update,
    nudge_drafts_create,
    team_snooze,
)
from notifications.nudges.forms import DraftEditForm, NudgeCreateForm, SendForm, SnoozeForm
from notifications.nudges.models import Nudge
from notifications.nudges.sending import nudge_send_enqueue
from runs.fleet.forms import repository_names_selected
from runs.fleet.models import Migration, Team
from runs.fleet.ownership import migration_act_or_403

HISTORY_PAGE_SIZE = 50


@require_POST
@role_required(MIGRATION_OWNER)
def team_snooze_set(request, slug: str):
    team = get_object_or_404(Team, slug=slug)
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Snooze for 1 to 90 days.")
    else:
        migration = None
        if form.cleaned_data["migration"]:
            migration = get_object_or_404(Migration, slug=form.cleaned_data["migration"])
            if (denied := migration_act_or_403(request, migration)) is not None:
                return denied
        until = timezone.now() + timedelta(days=form.cleaned_data["days"])
        team_snooze(team=team, until=until, user=request.user, migration=migration, reason=form.cleaned_data["reason"])
        messages.success(request, f"{team.name or team.slug} gets no nudges until {until:%Y-%m-%d}.")
    return redirect(next_url_or(request, reverse("notifications:unowned")))


@require_POST
def nudge_create(request, slug: str):
    migration = get_object_or_404(Migration, slug=slug)
    if (denied := migration_act_or_403(request, migration)) is not None:
        return denied
    form = NudgeCreateForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("invalid nudge request: " + "; ".join(form.errors))
    names = repository_names_selected(migration=migration, data=request.POST) or None
    if form.cleaned_data["cluster"]:
        names = cluster_repo_names(migration=migration, cluster_id=form.cleaned_data["cluster"])
        if names is None:
            raise Http404(f"{migration.slug} has no cluster {form.cleaned_data['cluster']}")
    result = nudge_drafts_create(migration=migration, user=request.user, repo_names=names, due=form.cleaned_data["due"])
    messages.success(request, f"{len(result.drafts)} draft(s) ready to review.")
    if result.unowned:
        messages.warning(request, f"{len(result.unowned)} repositories have no owning team and got no draft.")
    for team, until in result.snoozed:
        messages.info(request, f"{team.name or team.slug} is snoozed until {until:%Y-%m-%d}: no draft.")
    for team in result.no_channel:
        messages.warning(request, f"{team.name or team.slug} has no Slack channel yet: choose one before sending.")
    return redirect("notifications:nudge-drafts", slug=migration.slug)


@require_GET
def nudge_drafts(request, slug: str):
    migration = get_object_or_404(Migration, slug=slug)
    if (denied := migration_act_or_403(request, migration)) is not None:
        return denied
    drafts = list(selectors.nudge_drafts(migration=migration))
    for nudge in drafts:
        nudge.preview_blocks = nudge_blocks(nudge)[1] if nudge.status == Nudge.Status.DRAFT else nudge.blocks
    return render(
        request,
        "notifications/drafts.html",
        {"migration": migration, "drafts": drafts, "has_drafts": any(n.status == "draft" for n in drafts)},
    )


@require_POST
def nudge_send_selected(request, slug: str):
    migration = get_object_or_404(Migration, slug=slug)
    if (denied := migration_act_or_403(request, migration)) is not None:
        return denied
    candidates = {
        n.pk: n for n in selectors.nudge_list(migration=migration, statuses=[Nudge.Status.DRAFT, Nudge.Status.FAILED])
    }
    form = SendForm(request.POST, draft_ids=list(candidates))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("notifications:nudge-drafts", slug=migration.slug)
    chosen = [candidates[pk] for pk in form.cleaned_data["nudges"]]
    queued, refused = nudge_send_enqueue(nudges=chosen, user=request.user)
    messages.success(request, f"{len(queued)} nudge(s) queued for sending.")
    if refused:
        messages.warning(request, f"{len(refused)} nudge(s) were already being sent and were skipped.")
    return redirect("notifications:nudge-drafts", slug=migration.slug)


@require_POST
def nudge_edit(request, pk: int):
    nudge = get_object_or_404(Nudge.objects.select_related("migration", "team"), pk=pk)
    if (denied := migration_act_or_403(request, nudge.migration)) is not None:
        return denied
    form = DraftEditForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The text is required and at most 3000 characters.")
    else:
        try:
            nudge_draft_update(nudge=nudge, text=form.cleaned_data["text"], user=request.user)
            messages.success(request, f"Draft for {nudge.team.name or nudge.team.slug} saved.")
        except NudgeNotSendable:
            messages.error(request, "This nudge is no longer a draft.")
    return redirect("notifications:nudge-drafts", slug=nudge.migration.slug)


@require_POST
def nudge_cancel_view(request, pk: int):
    nudge = get_object_or_404(Nudge.objects.select_related("migration", "team"), pk=pk)
    if (denied := migration_act_or_403(request, nudge.migration)) is not None:
        return denied
    if nudge_cancel(nudge=nudge, user=request.user):
        messages.success(request, f"Draft for {nudge.team.name or nudge.team.slug} cancelled.")
    return redirect("notifications:nudge-drafts", slug=nudge.migration.slug)


@require_GET
def nudge_history(request):
    migration = Migration.objects.filter(slug=request.GET.get("migration") or "").first()
    team = Team.objects.filter(slug=request.GET.get("team") or "").first()
    page = Paginator(selectors.nudge_history(migration=migration, team=team), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "notifications/history.html",
        {
            "page": page,
            "migration": migration,
            "team": team,
            "migrations": Migration.objects.order_by("slug"),
            "teams": Team.objects.order_by("slug"),
        },
    )
