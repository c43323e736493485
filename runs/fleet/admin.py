"""Admin: teams, repositories and migrations are editable; imported records are read-only."""

from django import forms
from django.contrib import admin

from runs.fleet import ownership
from runs.fleet.models import (
    Attempt,
    AuditEvent,
    JudgeVerdict,
    Migration,
    PromptRevision,
    PullRequest,
    Repository,
    Target,
    Team,
    VerifierResult,
)
from runs.fleet.names import validate_repository_name


class ReadOnlyMixin:
    """Rows written by imports and syncs: visible, deletable, never edited by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    show_change_link = True


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("slug", "name")
    search_fields = ("slug", "name")


class RepositoryAdminForm(forms.ModelForm):
    """A repository typed in by hand gets the same name check as one arriving in a trace."""

    class Meta:
        model = Repository
        fields = ("full_name", "team", "ownership_source")

    def clean_full_name(self):
        name = self.cleaned_data["full_name"]
        validate_repository_name(name)
        return name


@admin.register(Repository)
class RepositoryAdmin(admin.ModelAdmin):
    form = RepositoryAdminForm
    list_display = ("full_name", "team", "ownership_source", "created_at")
    list_filter = ("ownership_source", "team")
    search_fields = ("full_name", "team__slug")
    list_select_related = ("team",)
    autocomplete_fields = ("team",)


class PromptRevisionInline(ReadOnlyInline):
    model = PromptRevision
    fields = ("number", "text_hash", "author_name", "created_at")
    readonly_fields = fields


@admin.register(Migration)
class MigrationAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "owner", "owner_name", "created_at")
    search_fields = ("slug", "title", "owner_name")
    raw_id_fields = ("owner",)
    filter_horizontal = ("owners",)
    inlines = [PromptRevisionInline]

    def save_related(self, request, form, formsets, change):
        """Owners changed here are audited like those changed on the migration page; the creator becomes one."""
        migration = form.instance
        before = set(migration.owners.values_list("id", flat=True)) if change else set()
        super().save_related(request, form, formsets, change)
        if not change and not migration.owners.exists():
            migration.owners.add(request.user)
        ownership.migration_owners_audit(
            migration=migration,
            actor=request.user,
            before=before,
            after=set(migration.owners.values_list("id", flat=True)),
        )


class VerifierResultInline(ReadOnlyInline):
    model = VerifierResult
    fields = ("position", "kind", "passed", "exit_code", "output_size", "output_truncated", "snippet")
    readonly_fields = fields
    show_change_link = False


class JudgeVerdictInline(ReadOnlyMixin, admin.StackedInline):
    model = JudgeVerdict
    readonly_fields = ("verdict", "rationale", "source")


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("trace_id", "migration", "repository", "number", "phase", "outcome", "ended_at")
    list_filter = ("outcome", "phase", "migration")
    search_fields = ("trace_id", "repository__full_name")
    list_select_related = ("migration", "repository")
    date_hierarchy = "ended_at"
    exclude = ("span_tree",)
    inlines = [VerifierResultInline, JudgeVerdictInline]


@admin.register(Target)
class TargetAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("repository", "migration", "state", "pre_existing_failure", "attempts_count", "last_activity_at")
    list_filter = ("state", "pre_existing_failure", "migration")
    search_fields = ("repository__full_name",)
    list_select_related = ("migration", "repository")


@admin.register(PullRequest)
class PullRequestAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("url", "migration", "state", "draft", "checks", "review", "updated_at", "synced_at")
    list_filter = ("state", "checks", "review", "migration")
    search_fields = ("url", "repository__full_name")
    list_select_related = ("migration",)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "actor_name", "verb", "target_type", "target_label", "migration")
    list_filter = ("verb", "target_type")
    search_fields = ("actor_name", "verb", "target_label", "target_id")
    date_hierarchy = "created_at"
