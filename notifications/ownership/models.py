"""Who owns each repository and why: overrides and the resolved ownership with its source."""

from django.conf import settings
from django.db import models

from runs.fleet.models import Repository, Team


class OwnershipOverride(models.Model):
    """An owner set by hand in fleetui; it beats CODEOWNERS and the catalog."""

    repository = models.OneToOneField(Repository, on_delete=models.CASCADE, related_name="ownership_override")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="ownership_overrides")
    reason = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.repository} -> {self.team}"


class RepositoryOwnership(models.Model):
    """How a repository's owning team was decided: source, detail and warnings of the last resolution."""

    repository = models.OneToOneField(Repository, on_delete=models.CASCADE, related_name="ownership")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=20, help_text="override, codeowners, catalog or none")
    detail = models.TextField(blank=True)
    warnings = models.JSONField(default=list, blank=True)
    resolved_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "repository ownerships"

    def __str__(self) -> str:
        return f"{self.repository}: {self.source}"
