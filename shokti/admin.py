from django.contrib import admin

from shokti.models import ApiToken, Membership, Organization


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "timezone", "created_at"]
    search_fields = ["slug", "name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    list_select_related = ["user", "organization"]
    search_fields = ["user__username", "user__email"]
    autocomplete_fields = ["user", "organization"]


@admin.action(description="Revoke the selected tokens")
def revoke_tokens(modeladmin, request, queryset):
    from django.utils import timezone

    count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    modeladmin.message_user(request, f"Revoked {count} token(s).")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created with `manage.py create_api_token` (shown once); here they are listed and revoked."""

    list_display = ["key_prefix", "name", "membership", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at", "membership__organization"]
    list_select_related = ["membership__user", "membership__organization"]
    readonly_fields = ["key_prefix", "membership", "created_at", "last_used_at", "revoked_at"]
    exclude = ["key_digest"]
    actions = [revoke_tokens]

    def has_add_permission(self, request):
        return False
