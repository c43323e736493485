"""Admin pages for import runs (read-only)."""

from django.contrib import admin

from runs.fleet.admin import ReadOnlyInline, ReadOnlyMixin
from runs.imports.models import ImportRun, ImportRunError


class ImportRunErrorInline(ReadOnlyInline):
    model = ImportRunError
    fields = ("trace_id", "reason", "created_at")
    readonly_fields = fields
    show_change_link = False


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "status", "trigger", "created_at", "finished_at", "seen", "imported", "updated", "errors")
    list_filter = ("status", "trigger")
    inlines = [ImportRunErrorInline]
