"""Tenancy for the console: staff see and change only their organization's rows.

A staff user's organization is their membership's; superusers see and pick
any. Analysts read only, as in the API. A staff user without a membership
sees no rows. Access follows the membership's role, so marketers need no
per-model Django permissions.
"""

from shokti.models import Organization


def organization_of(user) -> Organization | None:
    membership = getattr(user, "membership", None)
    return membership.organization if membership else None


def user_organization(request) -> Organization | None:
    return organization_of(request.user)


class OrganizationRules:
    """Choices limited to the user's organization and role-based access, for admins and inlines alike."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if not request.user.is_superuser and any(field.name == "organization" for field in related._meta.fields):
            kwargs["queryset"] = related._default_manager.filter(organization=user_organization(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _can_write(self, request) -> bool:
        membership = getattr(request.user, "membership", None)
        return request.user.is_superuser or bool(membership and membership.can_write)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or user_organization(request) is not None

    def has_add_permission(self, request, *args):
        return self._can_write(request)

    def has_change_permission(self, request, obj=None):
        return self._can_write(request)

    def has_delete_permission(self, request, obj=None):
        return self._can_write(request)


class OrganizationScopedAdmin(OrganizationRules):
    """Mix in before admin.ModelAdmin on models with an organization (or a path to one in `organization_field`)."""

    organization_field = "organization"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{self.organization_field: user_organization(request)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser and db_field.name == self.organization_field:
            organization = user_organization(request)
            # Shown fixed rather than hidden, so unique constraints with the organization are still validated.
            kwargs.update(queryset=Organization.objects.filter(pk=getattr(organization, "pk", None)))
            kwargs.update(initial=organization, disabled=True)
            return super(OrganizationRules, self).formfield_for_foreignkey(db_field, request, **kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser and self.organization_field == "organization":
            obj.organization = user_organization(request)
        super().save_model(request, obj, form, change)

    def get_list_display(self, request):
        return self._without_organization(request, super().get_list_display(request))

    def get_list_filter(self, request):
        return self._without_organization(request, super().get_list_filter(request))

    def _without_organization(self, request, names):
        return names if request.user.is_superuser else [name for name in names if name != self.organization_field]

    def has_module_permission(self, request):
        return self.has_view_permission(request)
