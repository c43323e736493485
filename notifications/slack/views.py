"""Pages: the unowned queue, choosing a team's channel, the Slack channel directory."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from fleetui.common.redirects import next_url_or
from fleetui.common.roles import MIGRATION_OWNER, role_required
from notifications.ownership import selectors as ownership_selectors
from notifications.slack import selectors as slack_selectors
from notifications.slack.directory import directory_sync_enqueue, team_channel_choose
from notifications.slack.forms import ChannelChoiceForm
from runs.fleet.models import Team


@require_GET
@role_required(MIGRATION_OWNER)
def unowned_queue(request):
    repos = Paginator(ownership_selectors.repositories_without_team(), 100).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/unowned.html",
        {
            "repos": repos,
            "teams_without_channel": slack_selectors.teams_without_channel(),
            "teams": Team.objects.order_by("slug"),
            "channels": slack_selectors.slack_channel_list().filter(is_archived=False),
        },
    )


@require_POST
@role_required(MIGRATION_OWNER)
def team_channel_set(request, slug: str):
    team = get_object_or_404(Team, slug=slug)
    form = ChannelChoiceForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.non_field_errors()) or "Choose a channel from the directory.")
    else:
        channel = form.cleaned_data["chosen"]
        team_channel_choose(team=team, channel=channel, user=request.user)
        messages.success(request, f"Nudges for {team.name or team.slug} go to #{channel.name}.")
    return redirect(next_url_or(request, reverse("notifications:unowned")))


@require_GET
def directory(request):
    return render(
        request,
        "notifications/directory.html",
        {
            "runs": slack_selectors.directory_sync_runs(),
            "team_channels": slack_selectors.team_channel_rows(),
            "channel_count": slack_selectors.slack_channel_list().count(),
        },
    )


@require_POST
@role_required(MIGRATION_OWNER)
def directory_sync(request):
    run = directory_sync_enqueue(trigger="manual", user=request.user)
    messages.success(request, f"Directory sync #{run.pk} queued.")
    return redirect("notifications:directory")
