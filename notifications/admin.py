from django.contrib import admin

from notifications.models import (
    DirectorySyncRun,
    Nudge,
    OwnershipOverride,
    RepositoryOwnership,
    SlackChannel,
    TeamChannel,
    TeamSnooze,
)


@admin.register(OwnershipOverride)
class OwnershipOverrideAdmin(admin.ModelAdmin):
    list_display = ("repository", "team", "reason", "created_by", "created_at")
    search_fields = ("repository__full_name", "team__slug")
    autocomplete_fields = ("repository", "team")
    readonly_fields = ("created_by",)

    def save_model(self, request, obj, form, change):
        from notifications.services.ownership import ownership_override_set

        # The service applies the override at once and writes the audit event.
        ownership_override_set(repository=obj.repository, team=obj.team, user=request.user, reason=obj.reason)


@admin.register(RepositoryOwnership)
class RepositoryOwnershipAdmin(admin.ModelAdmin):
    list_display = ("repository", "team", "source", "resolved_at")
    list_filter = ("source",)
    search_fields = ("repository__full_name", "team__slug")
    readonly_fields = ("repository", "team", "source", "detail", "warnings", "resolved_at")


@admin.register(SlackChannel)
class SlackChannelAdmin(admin.ModelAdmin):
    list_display = ("name", "channel_id", "is_private", "is_archived", "is_member", "seen_in_sync", "last_seen_at")
    list_filter = ("is_private", "is_archived", "is_member", "seen_in_sync")
    search_fields = ("name", "channel_id")


@admin.register(DirectorySyncRun)
class DirectorySyncRunAdmin(admin.ModelAdmin):
    list_display = ("pk", "status", "trigger", "listed", "created", "renamed", "gone", "finished_at")
    list_filter = ("status",)


@admin.register(TeamChannel)
class TeamChannelAdmin(admin.ModelAdmin):
    list_display = ("team", "channel", "source", "score", "confirmed_by", "confirmed_at")
    list_filter = ("source",)
    search_fields = ("team__slug", "channel__name")


@admin.register(TeamSnooze)
class TeamSnoozeAdmin(admin.ModelAdmin):
    list_display = ("team", "migration", "until", "created_by")


@admin.register(Nudge)
class NudgeAdmin(admin.ModelAdmin):
    list_display = ("pk", "migration", "team", "channel", "status", "sent_by", "sent_at")
    list_filter = ("status",)
    search_fields = ("team__slug", "migration__slug")
    readonly_fields = ("slack_ts", "thread_ts", "permalink", "sent_at", "sent_by", "delivery_started_at")
