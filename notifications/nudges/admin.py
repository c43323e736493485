from django.contrib import admin

from notifications.nudges.models import Nudge, TeamSnooze


@admin.register(TeamSnooze)
class TeamSnoozeAdmin(admin.ModelAdmin):
    list_display = ("team", "migration", "until", "created_by")


@admin.register(Nudge)
class NudgeAdmin(admin.ModelAdmin):
    list_display = ("pk", "migration", "team", "channel", "status", "sent_by", "sent_at")
    list_filter = ("status",)
    search_fields = ("team__slug", "migration__slug")
    readonly_fields = ("slack_ts", "thread_ts", "permalink", "sent_at", "sent_by", "delivery_started_at")
