from django.contrib import admin

from analytics.models import Conversion


@admin.register(Conversion)
class ConversionAdmin(admin.ModelAdmin):
    """Attributed conversions, read-only: they are written by attribution alone."""

    list_display = ["event_type", "campaign", "attribution_model", "weight", "value", "is_holdout", "converted_at"]
    list_filter = ["attribution_model", "is_holdout", "event_type"]
    list_select_related = ["campaign"]
    raw_id_fields = ["campaign", "execution", "message", "contact", "event"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
