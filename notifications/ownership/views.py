"""Pages: overriding a repository's owning team."""

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from fleetui.common.roles import MIGRATION_OWNER, role_required
from notifications.ownership.forms import OverrideForm
from notifications.ownership.services import ownership_override_set
from runs.fleet.models import Repository, Team


@require_POST
@role_required(MIGRATION_OWNER)
def override_set(request):
    form = OverrideForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a repository and a team.")
        return redirect("notifications:unowned")
    repo = Repository.objects.filter(full_name=form.cleaned_data["repo"]).first()
    team = Team.objects.filter(slug=form.cleaned_data["team"]).first()
    if repo is None or team is None:
        messages.error(request, "Unknown repository or team.")
        return redirect("notifications:unowned")
    ownership_override_set(repository=repo, team=team, user=request.user, reason=form.cleaned_data["reason"])
    messages.success(request, f"{repo.full_name} is now owned by {team.name or team.slug}.")
    return redirect("notifications:unowned")
