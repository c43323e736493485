"""Pages: a migration's owners, changed by its owners and admins from the migration page."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from runs.fleet.forms import MigrationOwnerForm
from runs.fleet.models import Migration
from runs.fleet.ownership import OwnershipError, migration_act_or_403, migration_owners_change


@require_POST
def migration_owners_edit(request, slug: str):
    """Add or remove one co-owner; the migration's owners and admins may."""
    migration = get_object_or_404(Migration, slug=slug)
    if (denied := migration_act_or_403(request, migration)) is not None:
        return denied
    form = MigrationOwnerForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"Not done: {error}.")
        return redirect("migration-detail", slug=migration.slug)
    user, adding = form.cleaned_data["username"], form.cleaned_data["action"] == "add"
    try:
        added, removed = migration_owners_change(
            migration=migration, actor=request.user, add=[user] if adding else [], remove=[] if adding else [user]
        )
    except OwnershipError as error:
        messages.error(request, f"Not done: {error}.")
    else:
        if added:
            messages.success(request, f"{user.get_username()} is now an owner of {migration.slug}.")
        elif removed:
            messages.success(request, f"{user.get_username()} is no longer an owner of {migration.slug}.")
        else:
            messages.info(request, "Nothing changed.")
    return redirect("migration-detail", slug=migration.slug)
