"""The marketers' console for contacts, services, bookings and segments."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse_lazy

from audiences import csv_io, selectors, services
from audiences.models import Booking, Contact, Segment, Service
from audiences.segments import validate_conditions
from shokti.admin_scoping import OrganizationScopedAdmin, user_organization
from shokti.errors import ApplicationError
from shokti.models import Organization


def _organization_for(request: HttpRequest, chosen: Organization | int | str | None) -> Organization | None:
    """Staff act for their own organization; a superuser chooses one."""
    if not request.user.is_superuser:
        return user_organization(request)
    if isinstance(chosen, Organization):
        return chosen
    return Organization.objects.filter(pk=chosen).first() if str(chosen or "").isdigit() else None


# --- Contacts --------------------------------------------------------------------------


class ContactImportForm(forms.Form):
    file = forms.FileField(help_text="A CSV with a header row; see the columns below.")
    organization = forms.ModelChoiceField(Organization.objects.all(), required=False)


@admin.action(description="Export the selected contacts as CSV")
def export_contacts_csv(modeladmin, request, queryset):
    response = StreamingHttpResponse(
        csv_io.export_lines(selectors.contacts_for_export(queryset)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="contacts.csv"'
    return response


@admin.register(Contact)
class ContactAdmin(OrganizationScopedAdmin, admin.ModelAdmin):
    list_display = ["external_id", "email", "first_name", "last_name", "locale", "last_booking_at", "organization"]
    list_filter = ["organization", "locale", "created_at"]
    list_select_related = ["organization"]
    search_fields = ["external_id", "email", "phone", "first_name", "last_name"]
    readonly_fields = ["id", "last_booking_at", "created_at", "updated_at"]
    actions = [export_contacts_csv]
    change_list_template = "admin/audiences/contact/change_list.html"

    def get_urls(self):
        import_view = self.admin_site.admin_view(self.import_view)
        return [path("import/", import_view, name="audiences_contact_import"), *super().get_urls()]

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ContactImportForm(request.POST or None, request.FILES or None)
        if not request.user.is_superuser:
            del form.fields["organization"]
        report = None
        if request.method == "POST" and form.is_valid():
            organization = _organization_for(request, form.cleaned_data.get("organization"))
            if organization is None:
                form.add_error(None, "Choose the organization to import into.")
            else:
                try:
                    report = services.contacts_import_csv(organization=organization, source=form.cleaned_data["file"])
                except ApplicationError as exc:
                    form.add_error("file", exc.message)
                else:
                    level = messages.WARNING if report.failed else messages.SUCCESS
                    self.message_user(
                        request,
                        f"{report.created} created, {report.updated} updated, {report.failed} failed.",
                        level,
                    )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import contacts from CSV",
            "form": form,
            "report": report,
            "columns_help": csv_io.__doc__,
        }
        return TemplateResponse(request, "admin/audiences/contact/import.html", context)


@admin.register(Service)
class ServiceAdmin(OrganizationScopedAdmin, admin.ModelAdmin):
    list_display = ["name", "category", "price", "is_active", "organization"]
    list_filter = ["organization", "category", "is_active"]
    search_fields = ["name", "name_bn"]


@admin.register(Booking)
class BookingAdmin(OrganizationScopedAdmin, admin.ModelAdmin):
    list_display = ["contact", "service", "status", "scheduled_at", "finished_at", "total_price"]
    list_filter = ["status", "service"]
    list_select_related = ["contact", "service"]
    autocomplete_fields = ["contact"]
    search_fields = ["contact__email", "contact__external_id"]


# --- Segments --------------------------------------------------------------------------


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["organization", "public_id", "name", "description", "conditions"]
        widgets = {
            "conditions": forms.Textarea(
                attrs={"rows": 14, "cols": 90, "data-estimate-url": reverse_lazy("admin:audiences_segment_estimate")}
            )
        }

    def clean_conditions(self):
        conditions = self.cleaned_data["conditions"]
        try:
            validate_conditions(conditions, loc=())
        except ApplicationError as exc:
            raise ValidationError(
                [
                    f"{'.'.join(map(str, error['loc'])) or 'conditions'}: {error['msg']}"
                    for error in exc.details["errors"]
                ]
            ) from exc
        return conditions


@admin.action(description="Re-estimate the size of the selected segments")
def refresh_estimates(modeladmin, request, queryset):
    for segment in queryset:
        services.segment_refresh_estimate(segment=segment)
    modeladmin.message_user(request, f"Re-estimated {len(queryset)} segment(s).", messages.SUCCESS)


@admin.register(Segment)
class SegmentAdmin(OrganizationScopedAdmin, admin.ModelAdmin):
    form = SegmentForm
    list_display = ["name", "public_id", "estimated_size", "estimated_at", "updated_at", "organization"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    search_fields = ["name", "public_id", "description"]
    readonly_fields = ["estimated_size", "estimated_at"]
    actions = [refresh_estimates]

    class Media:
        js = ["audiences/segment_estimate.js"]

    def get_readonly_fields(self, request, obj=None):
        # The id is chosen once: campaigns and clients refer to it.
        return [*self.readonly_fields, "public_id"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change or "conditions" in form.changed_data:
            services.segment_refresh_estimate(segment=obj)

    def get_urls(self):
        estimate = self.admin_site.admin_view(self.estimate_view)
        return [path("estimate/", estimate, name="audiences_segment_estimate"), *super().get_urls()]

    def estimate_view(self, request):
        """POST {"conditions": […], "organization": id?} → {"estimated_size": n}, for the live count while editing."""
        if request.method != "POST" or not self.has_view_permission(request):
            raise PermissionDenied
        try:
            payload = json.loads(request.body or b"{}")
        except json.JSONDecodeError:
            return JsonResponse({"error": "The body is not JSON."}, status=400)
        organization = _organization_for(request, payload.get("organization"))
        if organization is None:
            return JsonResponse({"error": "Choose an organization first."}, status=400)
        try:
            size = selectors.conditions_estimate(organization=organization, conditions=payload.get("conditions"))
        except ApplicationError as exc:
            return JsonResponse({"error": exc.message, "errors": exc.details["errors"]}, status=400)
        return JsonResponse({"estimated_size": size})
