"""Console pages for triggers' decisions and the event stream. Logs are read-only.

Trigger history lives here, beside the delivery log, as its own page: the
campaign pages are the campaign console's, which links to it by campaign filter.
"""

from django.contrib import admin, messages

from campaigns.models import TriggerHistory
from streams.models import OutboxEvent, WebhookDelivery, WebhookSubscription


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TriggerHistory)
class TriggerHistoryAdmin(ReadOnlyAdmin):
    list_display = ["evaluated_at", "campaign", "event_type", "user_id", "triggered", "skip_reason",
                    "deferred_reason", "scheduled_send_at"]  # fmt: skip
    list_filter = ["skip_reason", "triggered", "deferred_reason", ("campaign", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["campaign"]
    search_fields = ["user_id", "event_id", "campaign__public_id", "campaign__name"]
    date_hierarchy = "evaluated_at"
    show_full_result_count = False


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ["event", "status", "attempts", "last_status_code", "last_error", "next_attempt_at", "delivered_at"]
    readonly_fields = fields
    ordering = ["-id"]
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["url", "organization", "is_active", "consecutive_failures", "disabled_at", "created_at"]
    list_filter = ["is_active", "organization"]
    list_select_related = ["organization"]
    search_fields = ["url", "public_id", "description"]
    readonly_fields = ["public_id", "consecutive_failures", "disabled_at", "created_at", "updated_at"]
    inlines = [WebhookDeliveryInline]
    actions = ["enable"]

    @admin.action(description="Enable again (and reset the failure count)")
    def enable(self, request, queryset):
        count = queryset.update(is_active=True, consecutive_failures=0, disabled_at=None)
        self.message_user(request, f"{count} subscriptions enabled.", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "subscription", "event", "status", "attempts", "last_status_code", "next_attempt_at",
                    "delivered_at"]  # fmt: skip
    list_filter = ["status", ("subscription", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["subscription", "event"]
    search_fields = ["event__public_id", "event__event_type", "subscription__url"]


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "event_type", "organization", "created_at", "relayed_at", "published_at"]
    list_filter = ["event_type", "organization"]
    list_select_related = ["organization"]
    search_fields = ["public_id", "event_type"]
