"""The marketers' console: campaigns with their parts, lifecycle buttons and actions, previews.

Every button and action goes through campaigns.lifecycle / services, the same
functions as the API, and a refusal comes back as an admin message.
"""

import uuid

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from audiences.models import Contact
from campaigns import execution, lifecycle, services
from campaigns.models import Campaign, CampaignAudience, Channel, Execution, Trigger, Variant
from messaging.rendering import contact_context, render_channel
from shokti.admin_scoping import OrganizationRules, OrganizationScopedAdmin, organization_of
from shokti.errors import ApplicationError

STATUS_COLOURS = {
    "draft": "#6b7280", "scheduled": "#2563eb", "active": "#059669", "running": "#7c3aed",
    "paused": "#d97706", "completed": "#0f766e", "cancelled": "#b91c1c",
}  # fmt: skip

CONSOLE_CANCEL_REASON = "Cancelled from the console"


class AudienceInline(OrganizationRules, admin.TabularInline):
    model = CampaignAudience
    extra = 0
    fields = ["segment_type", "segment", "segment_query", "name", "estimated_size"]
    readonly_fields = ["estimated_size"]


class VariantInline(OrganizationRules, admin.TabularInline):
    model = Variant
    extra = 0
    fields = ["name", "allocation_percentage", "is_control", "description"]


class ChannelInline(OrganizationRules, admin.StackedInline):
    model = Channel
    extra = 0
    fieldsets = [
        (None, {"fields": [("channel_type", "variant", "enabled", "priority")]}),
        ("Email", {"classes": ["collapse"], "fields": ["email_subject", "email_body_html", "email_body_text",
                                                       ("email_sender_name", "email_sender_email", "email_reply_to")]}),
        ("SMS and WhatsApp", {"classes": ["collapse"], "fields": ["sms_body", "whatsapp_body", "whatsapp_template_id"]}),
        ("In-app", {"classes": ["collapse"], "fields": ["in_app_title", "in_app_body", "in_app_action_url", "in_app_icon"]}),
        ("Webhook", {"classes": ["collapse"], "fields": ["webhook_url", "webhook_method", "webhook_headers",
                                                         "webhook_payload_template"]}),
    ]  # fmt: skip

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "variant" and request.resolver_match.kwargs.get("object_id"):
            kwargs["queryset"] = Variant.objects.filter(campaign_id=request.resolver_match.kwargs["object_id"])
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class TriggerInline(OrganizationRules, admin.StackedInline):
    model = Trigger
    extra = 0
    fields = [("event_type", "enabled"), "conditions", ("delay_minutes", "delay_days"),
              ("frequency_limit", "frequency_window_hours"),
              ("quiet_hours_start", "quiet_hours_end", "quiet_hours_timezone")]  # fmt: skip


def actor(request) -> str:
    return request.user.get_username()


def _apply(modeladmin, request, queryset, label: str, function) -> None:
    """Runs one lifecycle function per campaign, reporting each refusal as it comes."""
    done = 0
    for campaign in queryset:
        try:
            function(campaign)
            done += 1
        except ApplicationError as error:
            modeladmin.message_user(request, f"{campaign.name}: {error.message}", messages.ERROR)
    if done:
        modeladmin.message_user(request, f"{label}: {done} campaign(s).", messages.SUCCESS)


def _run_now(campaign, request):
    return execution.execution_start(
        campaign, execution_type="manual", occurrence_key=f"manual:{uuid.uuid4().hex}", actor=actor(request)
    )


TRANSITIONS = {
    "schedule": ("Scheduled", lambda campaign, request, reason: lifecycle.campaign_schedule(campaign, actor=actor(request))),
    "activate": ("Activated", lambda campaign, request, reason: lifecycle.campaign_activate(campaign, actor=actor(request))),
    "pause": ("Paused", lambda campaign, request, reason: lifecycle.campaign_pause(campaign, actor=actor(request))),
    "resume": ("Resumed", lambda campaign, request, reason: lifecycle.campaign_resume(campaign, actor=actor(request))),
    "cancel": ("Cancelled", lambda campaign, request, reason: lifecycle.campaign_cancel(
        campaign, actor=actor(request), reason=reason or CONSOLE_CANCEL_REASON)),
    "clone": ("Cloned", lambda campaign, request, reason: services.campaign_clone(campaign, actor=actor(request))),
    "run_now": ("Started a run of", lambda campaign, request, reason: _run_now(campaign, request)),
}  # fmt: skip


def _bulk_action(name: str, description: str):
    label, function = TRANSITIONS[name]

    @admin.action(description=description, permissions=["change"])
    def action(modeladmin, request, queryset):
        _apply(modeladmin, request, queryset, label, lambda campaign: function(campaign, request, ""))

    action.__name__ = f"{name}_selected"
    return action


@admin.register(Campaign)
class CampaignAdmin(OrganizationScopedAdmin, admin.ModelAdmin):
    list_display = ["name", "status_badge", "campaign_type", "schedule_summary", "holdout_percentage", "updated_at"]
    list_filter = ["status", "campaign_type", "schedule_type", "enable_ab_testing"]
    search_fields = ["name", "description", "public_id"]
    list_select_related = ["organization"]
    readonly_fields = ["public_id", "status", "winner_variant", "cloned_from", "created_by", "updated_by",
                       "scheduled_by", "activated_at", "paused_by", "paused_at", "cancelled_by", "cancelled_at",
                       "cancelled_reason", "completed_at", "created_at", "updated_at"]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["public_id", "name", "description", ("campaign_type", "status"), "tags"]}),
        ("Schedule", {"fields": [("schedule_type", "scheduled_at"), ("cron_expression", "timezone"),
                                 ("send_window_start", "send_window_end", "exclude_weekends"),
                                 ("throttle_per_minute", "throttle_per_hour")]}),
        ("Experiment", {"fields": [("enable_ab_testing", "holdout_percentage"),
                                   ("auto_winner_enabled", "auto_winner_metric", "auto_winner_confidence",
                                    "auto_winner_min_sample"), "winner_variant"]}),
        ("Conversions", {"fields": [("conversion_event_type", "attribution_window_days", "attribution_model")]}),
        ("Audit", {"classes": ["collapse"], "fields": ["created_by", "updated_by", "scheduled_by", "activated_at",
                                                       ("paused_by", "paused_at"),
                                                       ("cancelled_by", "cancelled_at", "cancelled_reason"),
                                                       "completed_at", "cloned_from", "metadata",
                                                       ("created_at", "updated_at")]}),
    ]  # fmt: skip
    inlines = [AudienceInline, VariantInline, ChannelInline, TriggerInline]
    actions = [
        _bulk_action("schedule", "Schedule the selected campaigns"),
        _bulk_action("activate", "Activate the selected triggered campaigns"),
        _bulk_action("pause", "Pause the selected campaigns"),
        _bulk_action("resume", "Resume the selected campaigns"),
        _bulk_action("cancel", "Cancel the selected campaigns"),
        _bulk_action("clone", "Clone the selected campaigns"),
        _bulk_action("run_now", "Run the selected campaigns now"),
    ]
    change_form_template = "admin/campaigns/campaign/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(deleted_at__isnull=True)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, campaign):
        colour = STATUS_COLOURS.get(campaign.status, "#6b7280")
        return format_html(
            '<span style="background:{};color:#fff;padding:2px 8px;border-radius:10px;font-size:11px">{}</span>',
            colour, campaign.get_status_display(),
        )  # fmt: skip

    @admin.display(description="When")
    def schedule_summary(self, campaign):
        if campaign.campaign_type == "triggered":
            return "on events"
        if campaign.schedule_type == "recurring":
            return f"cron {campaign.cron_expression} ({campaign.timezone})"
        return campaign.scheduled_at.strftime("%Y-%m-%d %H:%M UTC") if campaign.scheduled_at else "—"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = actor(request)
        obj.updated_by = actor(request)
        if change and not obj.is_editable():
            # The form must not change a running or finished campaign behind the lifecycle's back.
            self.message_user(request, f"A {obj.status} campaign cannot be edited.", messages.ERROR)
            return
        super().save_model(request, obj, form, change)

    # --- buttons on the change form --------------------------------------------------------

    def get_urls(self):
        own = [
            path("<int:object_id>/transition/<str:name>/", self.admin_site.admin_view(self.transition_view),
                 name="campaigns_campaign_transition"),
            path("<int:object_id>/preview/", self.admin_site.admin_view(self.preview_view),
                 name="campaigns_campaign_preview"),
        ]  # fmt: skip
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        campaign = self.get_queryset(request).filter(pk=object_id).first()
        extra_context = dict(extra_context or {})
        if campaign is not None:
            allowed = set(lifecycle.allowed_actions(campaign))
            buttons = [name for name in ("schedule", "activate", "pause", "resume", "cancel") if name in allowed]
            buttons.append("clone")
            if "start" in allowed:
                buttons.append("run_now")
            extra_context["lifecycle_buttons"] = buttons if self.has_change_permission(request, campaign) else []
            extra_context["executions"] = campaign.executions.order_by("-created_at")[:10]
        return super().change_view(request, object_id, form_url, extra_context)

    def transition_view(self, request, object_id, name):
        campaign = get_object_or_404(self.get_queryset(request), pk=object_id)
        back = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
        if request.method != "POST" or name not in TRANSITIONS or not self.has_change_permission(request, campaign):
            self.message_user(request, "That action is not available.", messages.ERROR)
            return HttpResponseRedirect(back)
        label, function = TRANSITIONS[name]
        try:
            result = function(campaign, request, request.POST.get("reason", "").strip())
        except ApplicationError as error:
            self.message_user(request, f"{campaign.name}: {error.message}", messages.ERROR)
            return HttpResponseRedirect(back)
        if isinstance(result, Campaign) and result.pk != campaign.pk:
            self.message_user(request, f"{label} as “{result.name}”.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[result.pk]))
        if isinstance(result, tuple) and isinstance(result[0], Execution):
            self.message_user(request, f"{label} {campaign.name}: execution {result[0].public_id}.", messages.SUCCESS)
        else:
            self.message_user(request, f"{label} {campaign.name}.", messages.SUCCESS)
        return HttpResponseRedirect(back)

    def preview_view(self, request, object_id):
        """Renders a chosen channel for a chosen contact of the organization."""
        campaign = get_object_or_404(self.get_queryset(request), pk=object_id)
        channels = list(campaign.channels.select_related("variant"))
        chosen = next(
            (c for c in channels if c.public_id == request.GET.get("channel")), channels[0] if channels else None
        )
        external_id = request.GET.get("contact", "").strip()
        contact = (
            Contact.objects.filter(organization=campaign.organization, external_id=external_id).first()
            if external_id
            else Contact.objects.filter(organization=campaign.organization).order_by("created_at").first()
        )
        rendered, error = {}, ""
        if chosen and contact:
            try:
                rendered = render_channel(chosen, contact_context(contact))
            except ApplicationError as exc:
                error = exc.message
        elif external_id:
            error = f"No contact with external id {external_id} in this organization."
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "campaign": campaign,
            "channels": channels, "chosen": chosen, "contact": contact, "rendered": rendered, "error": error,
            "title": f"Preview: {campaign.name}", "organization": organization_of(request.user),
        }  # fmt: skip
        return TemplateResponse(request, "admin/campaigns/campaign/preview.html", context)


@admin.register(Execution)
class ExecutionAdmin(OrganizationScopedAdmin, admin.ModelAdmin):
    organization_field = "campaign__organization"
    list_display = ["public_id", "campaign", "execution_type", "status", "total_audience_size", "holdout_size",
                    "messages_sent", "messages_failed", "started_at", "completed_at"]  # fmt: skip
    list_filter = ["status", "execution_type"]
    list_select_related = ["campaign"]
    search_fields = ["public_id", "campaign__name"]
    readonly_fields = [field.name for field in Execution._meta.fields]

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False
