import uuid

from django.db import models

from audiences.validators import (
    validate_attributes,
    validate_consent,
    validate_locale,
    validate_phone,
    validate_timezone,
)
from shokti import ids
from shokti.models import Organization


def default_consent() -> dict:
    return {"marketing": True}


class Contact(models.Model):
    """A person an organization talks to; SmartEngage's customers are contacts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="contacts")
    external_id = models.CharField(max_length=255, help_text="The organization's id for this person: events' user_id.")
    email = models.EmailField(max_length=255, blank=True)
    phone = models.CharField(max_length=32, blank=True, validators=[validate_phone])
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    locale = models.CharField(max_length=16, default="bn", validators=[validate_locale])
    timezone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_timezone],
        help_text="IANA timezone; empty means the organization's.",
    )
    consent = models.JSONField(default=default_consent, blank=True, validators=[validate_consent])
    attributes = models.JSONField(default=dict, blank=True, validators=[validate_attributes])
    last_booking_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "external_id"], name="contact_external_id_unique_per_org"),
        ]
        indexes = [
            models.Index(fields=["organization", "email"], name="contact_org_email"),
            models.Index(fields=["organization", "last_booking_at"], name="contact_org_last_booking"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or self.external_id

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def effective_timezone(self) -> str:
        return self.timezone or self.organization.timezone


class Service(models.Model):
    """A home service that customers book (cleaning, plumbing, …)."""

    class Category(models.TextChoices):
        CLEANING = "cleaning", "Cleaning"
        PLUMBING = "plumbing", "Plumbing"
        ELECTRICAL = "electrical", "Electrical"
        APPLIANCE = "appliance", "Appliance repair"
        PEST_CONTROL = "pest_control", "Pest control"
        BEAUTY = "beauty", "Beauty"
        OTHER = "other", "Other"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="services")
    name = models.CharField(max_length=255)
    name_bn = models.CharField("name in Bengali", max_length=255, blank=True)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=32, choices=Category.choices, default=Category.OTHER)
    price = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Booking(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="bookings")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="bookings")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="bookings")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    scheduled_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    total_price = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["contact", "status", "finished_at"], name="booking_contact_status_done"),
            # Segments read completed bookings per contact in one ordered pass (counts, sums, latest times).
            # total_price as a key column rather than INCLUDE, which SQLite would warn about.
            models.Index(
                fields=["organization", "status", "contact", "finished_at", "total_price"],
                name="booking_org_status_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service} for {self.contact} ({self.status})"


class Segment(models.Model):
    """A saved audience: a rule tree over contacts, compiled to one query (audiences.segments)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="segments")
    public_id = models.CharField(max_length=64, default=ids.segment_id, help_text="seg_… ; unique per organization.")
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    conditions = models.JSONField(default=list, help_text="ANDed conditions and groups; see API.md.")
    estimated_size = models.PositiveIntegerField(null=True, blank=True)
    estimated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "public_id"], name="segment_public_id_unique_per_org"),
        ]

    def __str__(self) -> str:
        return self.name


class Event(models.Model):
    """A behavioural event about a contact, stored once per (organization, event_id)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=128)
    event_type = models.CharField(max_length=100)
    user_id = models.CharField(max_length=255, help_text="The contact's external_id.")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="events")
    properties = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "event_id"], name="event_id_unique_per_org"),
        ]
        indexes = [
            models.Index(fields=["contact", "event_type", "occurred_at"], name="event_contact_type_time"),
            models.Index(fields=["organization", "event_type", "occurred_at"], name="event_org_type_time"),
            # Segments count a type of event per contact in a window, grouped in index order.
            models.Index(
                fields=["organization", "event_type", "contact", "occurred_at"], name="event_org_type_contact_time"
            ),
            # Events that arrived before their contact, found again when the contact is created.
            models.Index(
                fields=["organization", "user_id"], condition=models.Q(contact__isnull=True), name="event_unlinked_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"
