"""Admin page of what was written back to MLflow: each label's status, writes and last error."""

from django.contrib import admin

from triage.clusters.models import MlflowLabel


@admin.register(MlflowLabel)
class MlflowLabelAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "trace_id", "status", "cluster_id", "writes", "short_error", "updated_at")
    list_filter = ("status", "name", "migration")
    search_fields = ("trace_id", "assessment_id", "error")
    readonly_fields = [field.name for field in MlflowLabel._meta.fields]
    list_select_related = ("migration",)

    @admin.display(description="last error")
    def short_error(self, obj: MlflowLabel) -> str:
        return obj.error[:120]

    def has_add_permission(self, request) -> bool:
        return False
