"""Admin pages of team inboxes: settings, digests and escalations (read mostly; sends happen on the team page)."""

from django.contrib import admin

from notifications.teams.models import TeamDigest, TeamDigestFollowUp, TeamEscalation, TeamInboxSettings


@admin.register(TeamInboxSettings)
class TeamInboxSettingsAdmin(admin.ModelAdmin):
    list_display = ("team", "digest_enabled", "stale_days", "escalation_channel", "updated_at")
    list_select_related = ("team", "escalation_channel")
    raw_id_fields = ("team", "escalation_channel", "updated_by")


@admin.register(TeamDigest)
class TeamDigestAdmin(admin.ModelAdmin):
    list_display = ("team", "day", "status", "channel", "followups", "sent_at")
    list_filter = ("status",)
    list_select_related = ("team", "channel")
    raw_id_fields = ("team", "channel", "requested_by")


@admin.register(TeamDigestFollowUp)
class TeamDigestFollowUpAdmin(admin.ModelAdmin):
    list_display = ("digest", "number", "status", "sent_at")
    raw_id_fields = ("digest",)


@admin.register(TeamEscalation)
class TeamEscalationAdmin(admin.ModelAdmin):
    list_display = ("team", "channel", "status", "created_at", "sent_at")
    list_filter = ("status",)
    list_select_related = ("team", "channel")
    raw_id_fields = ("team", "channel", "requested_by")
