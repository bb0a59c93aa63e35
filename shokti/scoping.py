"""Tenancy for viewsets: a view built on OrganizationScopedMixin cannot leak another organization's rows."""

from rest_framework.exceptions import NotAuthenticated

from shokti.auth import current_organization


class OrganizationScopedMixin:
    """Filters every queryset to the request's organization and stamps it on creation.

    Another organization's object is then simply not found: a 404, never a 403.
    `organization_field` names the path to the organization when it is not a direct field.
    """

    organization_field = "organization"

    @property
    def organization(self):
        organization = current_organization(self.request)
        if organization is None:
            raise NotAuthenticated("This endpoint needs an organization's token.")
        return organization

    def get_queryset(self):
        return super().get_queryset().filter(**{self.organization_field: self.organization})

    def perform_create(self, serializer):
        serializer.save(organization=self.organization)
