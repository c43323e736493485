"""Admin pages for API tokens."""

from django.contrib import admin

from runs.accounts.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created on the API tokens page or with `manage.py create_api_token`; here they can be reviewed."""

    list_display = ("user", "name", "prefix", "scope", "created_at", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("scope",)
    search_fields = ("user__username", "name", "prefix")
    readonly_fields = ("user", "prefix", "key_hash", "created_at", "last_used_at")
    list_select_related = ("user",)

    def has_add_permission(self, request):
        return False
