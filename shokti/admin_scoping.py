"""Tenancy for the Django admin: staff see and edit only their organization's rows.

A staff user's organization is their Membership's; superusers see every
organization. Analysts get view permission only, whatever their Django
permissions say.
"""

from django.contrib import admin

from shokti.models import Organization, Role


def organization_of(user) -> Organization | None:
    membership = getattr(user, "membership", None)
    return membership.organization if membership else None


def role_of(user) -> str | None:
    membership = getattr(user, "membership", None)
    return membership.role if membership else None


class OrganizationRules:
    """Choices limited to the user's organization; analysts read only. For admins and inlines alike."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        organization = organization_of(request.user)
        related = db_field.related_model
        if (
            not request.user.is_superuser
            and organization
            and any(f.name == "organization" for f in related._meta.fields)
        ):
            kwargs["queryset"] = related._default_manager.filter(organization=organization)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _may_write(self, request) -> bool:
        return request.user.is_superuser or role_of(request.user) in {Role.ADMIN, Role.MARKETER}

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or organization_of(request.user) is not None

    def has_add_permission(self, request, *args):
        return self._may_write(request)

    def has_change_permission(self, request, obj=None):
        return self._may_write(request)

    def has_delete_permission(self, request, obj=None):
        return self._may_write(request)


class OrganizationScopedAdmin(OrganizationRules, admin.ModelAdmin):
    """Filters lists and saves to the user's organization."""

    organization_field = "organization"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        organization = organization_of(request.user)
        return queryset.filter(**{self.organization_field: organization}) if organization else queryset.none()

    def get_exclude(self, request, obj=None):
        excluded = list(super().get_exclude(request, obj) or [])
        if not request.user.is_superuser and self.organization_field == "organization":
            excluded.append("organization")
        return excluded

    def save_model(self, request, obj, form, change):
        if not change and self.organization_field == "organization" and not getattr(obj, "organization_id", None):
            obj.organization = organization_of(request.user)
        super().save_model(request, obj, form, change)

    def has_module_permission(self, request):
        return self.has_view_permission(request)
