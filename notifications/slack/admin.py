from django.contrib import admin

from notifications.slack.models import DirectorySyncRun, SlackChannel, TeamChannel


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
