from django.contrib import admin

from notifications.ownership.models import OwnershipOverride, RepositoryOwnership
from notifications.ownership.services import ownership_override_set


@admin.register(OwnershipOverride)
class OwnershipOverrideAdmin(admin.ModelAdmin):
    list_display = ("repository", "team", "reason", "created_by", "created_at")
    search_fields = ("repository__full_name", "team__slug")
    autocomplete_fields = ("repository", "team")
    readonly_fields = ("created_by",)

    def save_model(self, request, obj, form, change):

        # The service applies the override at once and writes the audit event.
        ownership_override_set(repository=obj.repository, team=obj.team, user=request.user, reason=obj.reason)


@admin.register(RepositoryOwnership)
class RepositoryOwnershipAdmin(admin.ModelAdmin):
    list_display = ("repository", "team", "source", "resolved_at")
    list_filter = ("source",)
    search_fields = ("repository__full_name", "team__slug")
    readonly_fields = ("repository", "team", "source", "detail", "warnings", "resolved_at")
