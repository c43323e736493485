"""Read-only queries on ownership: repositories no team owns."""

from __future__ import annotations

from django.db.models import QuerySet

from runs.fleet.models import Repository


def repositories_without_team() -> QuerySet[Repository]:
    """Repositories no source could give an owner, with the resolver's explanation."""
    return Repository.objects.filter(team__isnull=True).select_related("ownership").order_by("full_name")
