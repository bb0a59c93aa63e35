"""Tenancy for the console: a ModelAdmin on OrganizationScopedAdmin shows staff only their organization.

A staff user's organization is their membership's; superusers see and pick
any. Analysts read only, as in the API. A staff user without a membership
sees no rows.
"""

from shokti.models import Organization


def user_organization(request) -> Organization | None:
    membership = getattr(request.user, "membership", None)
    return membership.organization if membership else None


class OrganizationScopedAdmin:
    """Mix in before admin.ModelAdmin on models with an `organization` foreign key."""

    organization_field = "organization"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{self.organization_field: user_organization(request)})

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            organization = user_organization(request)
            if db_field.name == self.organization_field:
                # Shown fixed rather than hidden, so unique constraints with the organization are still validated.
                kwargs.update(queryset=Organization.objects.filter(pk=getattr(organization, "pk", None)))
                kwargs.update(initial=organization, disabled=True)
            elif any(field.name == "organization" for field in db_field.related_model._meta.fields):
                kwargs["queryset"] = db_field.related_model._default_manager.filter(organization=organization)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            setattr(obj, self.organization_field, user_organization(request))
        super().save_model(request, obj, form, change)

    def get_list_display(self, request):
        return self._without_organization(request, super().get_list_display(request))

    def get_list_filter(self, request):
        return self._without_organization(request, super().get_list_filter(request))

    def _without_organization(self, request, names):
        return names if request.user.is_superuser else [name for name in names if name != self.organization_field]

    def _can_write(self, request) -> bool:
        membership = getattr(request.user, "membership", None)
        return request.user.is_superuser or bool(membership and membership.can_write)

    def has_add_permission(self, request, *args):
        return self._can_write(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self._can_write(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._can_write(request) and super().has_delete_permission(request, obj)
