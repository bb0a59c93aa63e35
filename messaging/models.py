"""The message row: one per (execution, contact, channel), with its status machine."""

from django.db import models
from django.db.models import Q

from audiences.models import Contact
from shokti.models import Organization


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    DEFERRED = "deferred", "Deferred"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    OPENED = "opened", "Opened"
    CLICKED = "clicked", "Clicked"
    BOUNCED = "bounced", "Bounced"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"


class SkipReason(models.TextChoices):
    NO_CONSENT = "no_consent", "No consent for the channel"
    NO_ADDRESS = "no_address", "No address for any channel"
    SUPPRESSED = "suppressed", "Suppressed (unsubscribed, bounced, complained)"
    FREQUENCY_CAP = "frequency_cap", "Frequency cap"
    HOLDOUT = "holdout", "Holdout group"
    CONTROL = "control", "Control variant"
    CAMPAIGN_CANCELLED = "campaign_cancelled", "Campaign cancelled"


class UserResponse(models.TextChoices):
    CLICKED = "CLICKED", "Clicked"
    REPLIED = "REPLIED", "Replied"
    IGNORED = "IGNORED", "Ignored"
    BOOKED = "BOOKED", "Booked"
    ACKNOWLEDGED = "ACKNOWLEDGED", "Acknowledged"


class Message(models.Model):
    """A message to one contact on one channel within one execution.

    Rows are written set-based by the execution engine and move
    queued/deferred → sending → sent → delivered → opened → clicked, or end
    skipped, failed, bounced or unsubscribed. Each step keeps its timestamp.
    """

    Status = MessageStatus

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="messages")
    execution = models.ForeignKey("campaigns.Execution", on_delete=models.CASCADE, related_name="messages")
    variant = models.ForeignKey("campaigns.Variant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.ForeignKey("campaigns.Channel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="messages")
    channel_type = models.CharField(max_length=20)
    recipient_address = models.CharField(max_length=255, blank=True)

    status = models.CharField(max_length=20, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    skip_reason = models.CharField(max_length=32, choices=SkipReason.choices, blank=True)
    is_holdout = models.BooleanField(default=False)
    send_after = models.DateTimeField(null=True, blank=True, help_text="Deferred into the send window until then.")
    attempts = models.PositiveSmallIntegerField(default=0)

    queued_at = models.DateTimeField(auto_now_add=True)
    sending_at = models.DateTimeField(null=True, blank=True, help_text="When a worker claimed it (its lease start).")
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    error_message = models.TextField(blank=True)
    bounce_type = models.CharField(max_length=10, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    correlation_id = models.CharField(max_length=128, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    # Seed 003's AIMessage fields, set on rows whose text a generator wrote. The engine
    # writes rows with INSERT … SELECT over a fixed column list, hence the database defaults.
    role = models.CharField(max_length=16, blank=True, default="", db_default="")
    agent_type = models.CharField(max_length=32, blank=True, default="", db_default="")
    message_type = models.CharField(max_length=32, blank=True, default="", db_default="")
    locale = models.CharField(max_length=16, blank=True, default="", db_default="")
    model = models.CharField(max_length=100, blank=True, default="", db_default="")
    prompt_version = models.PositiveIntegerField(null=True, blank=True)
    safety_checks = models.JSONField(null=True, blank=True)
    user_response = models.CharField(max_length=16, choices=UserResponse.choices, blank=True, default="", db_default="")
    generated_subject = models.CharField(max_length=255, blank=True, default="", db_default="")
    generated_text = models.TextField(blank=True, default="", db_default="")
    generation_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["execution", "contact", "channel_type"], name="message_once_per_execution_contact_channel"
            ),
            models.CheckConstraint(condition=Q(status__in=MessageStatus.values), name="message_valid_status"),
        ]
        indexes = [
            models.Index(fields=["execution", "status", "send_after"], name="message_claim"),
            models.Index(fields=["contact", "sent_at"], name="message_contact_sent"),
            models.Index(fields=["status", "sending_at"], name="message_sweep", condition=Q(status="sending")),
            models.Index(fields=["campaign", "status"], name="message_campaign_status"),
            # SmartEngage's "nothing from this agent in the last 24 hours" per contact.
            models.Index(
                fields=["contact", "agent_type", "queued_at"],
                name="message_contact_agent_recent",
                condition=~Q(agent_type=""),
            ),
        ]

    def __str__(self) -> str:
        return self.public_id

    @property
    def public_id(self) -> str:
        return f"msg_{self.pk:x}"

    @staticmethod
    def pk_from_public_id(public_id: str) -> int | None:
        prefix, _, digits = public_id.partition("_")
        try:
            return int(digits, 16) if prefix == "msg" and digits else None
        except ValueError:
            return None


class DeliveryEventType(models.TextChoices):
    DELIVERED = "delivered", "Delivered"
    BOUNCED = "bounced", "Bounced"
    OPENED = "opened", "Opened"
    CLICKED = "clicked", "Clicked"
    FAILED = "failed", "Failed"
    COMPLAINED = "complained", "Complained"


class BounceType(models.TextChoices):
    HARD = "hard", "Hard"
    SOFT = "soft", "Soft"


class DeliveryEvent(models.Model):
    """A provider's callback about a message, stored once per (organization, event_id).

    Providers retry callbacks; the unique key makes a retry a no-op instead of a
    second bounce or click.
    """

    Type = DeliveryEventType

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="delivery_events")
    event_id = models.CharField(max_length=255, help_text="The provider's id of the event.")
    event_type = models.CharField(max_length=20, choices=DeliveryEventType.choices)
    bounce_type = models.CharField(max_length=10, choices=BounceType.choices, blank=True)
    reason = models.TextField(blank=True)
    url = models.CharField(max_length=2000, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "event_id"], name="delivery_event_once_per_org"),
            models.CheckConstraint(
                condition=Q(event_type__in=DeliveryEventType.values), name="delivery_event_valid_type"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class Prompt(models.Model):
    """A versioned prompt for a generator, edited in the admin; each message records the version it used.

    `system_prompt` and `user_prompt` are Liquid templates over the generation
    inputs (customer_name, service_name, days_since, profile, tone, language,
    promo_code, deep_link). The highest active version of an agent is used.
    """

    agent_type = models.CharField(max_length=32, default="smartengage")
    version = models.PositiveIntegerField()
    system_prompt = models.TextField()
    user_prompt = models.TextField()
    is_active = models.BooleanField(default=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agent_type", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["agent_type", "version"], name="prompt_version_unique_per_agent"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_type} v{self.version}"
