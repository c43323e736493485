"""Admin pages for failure clusters and clustering runs (read mostly; triage happens in the app)."""

from django.contrib import admin

from triage.clusters.models import ClusteringRun, ClusterMember, FailureCluster


@admin.register(FailureCluster)
class FailureClusterAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "migration", "kind", "status", "size", "repos", "agent_failures", "updated_at")
    list_filter = ("status", "kind", "migration")
    search_fields = ("title", "signature", "notes")
    raw_id_fields = ("assignee",)
    readonly_fields = ("key", "signature", "top_terms", "exemplars", "example_snippet", "created_at", "updated_at")
    list_select_related = ("migration",)


@admin.register(ClusterMember)
class ClusterMemberAdmin(admin.ModelAdmin):
    list_display = ("id", "cluster", "repository", "kind", "why", "score", "pre_existing", "sticky", "joined_at")
    list_filter = ("why", "pre_existing", "sticky", "kind")
    search_fields = ("repository__full_name", "attempt__trace_id")
    raw_id_fields = ("cluster", "attempt", "verifier_result", "repository", "migration")
    list_select_related = ("cluster", "repository")


@admin.register(ClusteringRun)
class ClusteringRunAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "migration",
        "mode",
        "status",
        "failures",
        "clusters",
        "new_clusters",
        "seconds",
        "created_at",
    )
    list_filter = ("mode", "status")
    raw_id_fields = ("requested_by",)
    list_select_related = ("migration",)
