from django.contrib import admin

from audiences.models import Booking, Contact, Service


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["external_id", "email", "first_name", "last_name", "locale", "last_booking_at", "organization"]
    list_filter = ["organization", "locale"]
    list_select_related = ["organization"]
    search_fields = ["external_id", "email", "phone", "first_name", "last_name"]
    readonly_fields = ["id", "created_at", "updated_at"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "price", "is_active", "organization"]
    list_filter = ["organization", "category", "is_active"]
    search_fields = ["name", "name_bn"]


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ["contact", "service", "status", "scheduled_at", "finished_at", "total_price"]
    list_filter = ["status", "service"]
    list_select_related = ["contact", "service"]
    autocomplete_fields = ["contact"]
    search_fields = ["contact__email", "contact__external_id"]
