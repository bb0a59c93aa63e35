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


class Suppression(models.Model):
    """An address that must not receive a channel: unsubscribed, hard-bounced or complained.

    Covers the address on that channel for the whole organization (API.md).
    """

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        HARD_BOUNCE = "hard_bounce", "Hard bounce"
        COMPLAINT = "complaint", "Spam complaint"
        MANUAL = "manual", "Added by an operator"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="suppressions")
    channel_type = models.CharField(max_length=20)
    address = models.CharField(max_length=255, help_text="Lower-cased email, or E.164 phone.")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    source = models.CharField(max_length=50, blank=True, help_text="link, one_click, provider, admin, api…")
    campaign_public_id = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "channel_type", "address"], name="suppression_once_per_address"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.channel_type}: {self.reason})"


class EmbeddingFields(models.Model):
    """A 384-dimension vector stored as little-endian float32 bytes.

    Raw bytes load into NumPy with one `frombuffer` per row, thousands of rows
    per refresh, without parsing JSON floats.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    vector = models.BinaryField()
    embedding_version = models.CharField(max_length=20)
    model_version = models.CharField(max_length=100)
    created_at = models.DateTimeField()
    last_updated = models.DateTimeField()

    class Meta:
        abstract = True


class ContactEmbedding(EmbeddingFields):
    """What a contact engaged with (messages opened, clicked, bookings), as one vector."""

    contact = models.OneToOneField(Contact, primary_key=True, on_delete=models.CASCADE, related_name="embedding")

    def __str__(self) -> str:
        return f"embedding of {self.contact_id} ({self.model_version})"


class CampaignEmbedding(EmbeddingFields):
    """A campaign's name, description, category and content, as one vector."""

    campaign = models.OneToOneField(
        "campaigns.Campaign", primary_key=True, on_delete=models.CASCADE, related_name="embedding"
    )
    content_hash = models.CharField(max_length=64, help_text="Of the embedded text: unchanged text is not re-embedded.")

    class Meta:
        indexes = [models.Index(fields=["organization", "last_updated"], name="campaign_embedding_org_updated")]

    def __str__(self) -> str:
        return f"embedding of campaign {self.campaign_id} ({self.model_version})"


class CustomerOtp(models.Model):
    """A one-time sign-in code mailed to a customer (seed 003); only its HMAC is stored.

    A code is good for one verification, until `expires_at`, and while
    `attempts` (wrong tries) stays under the limit. Only a contact's newest
    code counts: requesting another retires the earlier ones.
    """

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="otps")
    email = models.CharField(max_length=255, help_text="Lower-cased, as the customer typed it.")
    code_digest = models.CharField(max_length=64, help_text="HMAC-SHA256 of the code; the code itself is never stored.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Wrong codes tried so far.")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["email", "-created_at"], name="customer_otp_email_recent")]

    def __str__(self) -> str:
        return f"code for {self.email}"
