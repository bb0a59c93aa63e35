"""The outbox of domain events and the webhook subscriptions it is delivered to, with their delivery log."""

import secrets

from django.db import models
from django.db.models import Q

from shokti import ids
from shokti.models import Organization


def outbox_event_id() -> str:
    return ids.new_public_id("dev")


def subscription_id() -> str:
    return ids.new_public_id("whs")


def subscription_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class OutboxEvent(models.Model):
    """A domain event (seed 004, "Events Published"), written in the transaction that made the change.

    The relay fans it out to webhook subscriptions (`relayed_at`) and, when
    NATS_URL is set, publishes it to JetStream (`published_at`); both at least once.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    public_id = models.CharField(max_length=50, unique=True, default=outbox_event_id, editable=False)
    event_type = models.CharField(max_length=100, help_text="Also the NATS subject, e.g. campaign.paused.")
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    relayed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["id"], name="outbox_unrelayed", condition=Q(relayed_at__isnull=True)),
            models.Index(fields=["id"], name="outbox_unpublished", condition=Q(published_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.public_id}"

    def envelope(self) -> dict:
        """The body every consumer receives: webhook receivers and NATS subscribers alike."""
        return {"id": self.public_id, "type": self.event_type, "created_at": self.created_at.isoformat(),
                "data": self.payload}  # fmt: skip


class WebhookSubscription(models.Model):
    """An organization's endpoint for domain events; disabled after too many consecutive failures."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    public_id = models.CharField(max_length=50, unique=True, default=subscription_id, editable=False)
    url = models.URLField(max_length=2000)
    event_types = models.JSONField(
        default=list, help_text='Event types to receive; "campaign.message.*" ends with a wildcard; empty is all.'
    )
    description = models.CharField(max_length=255, blank=True)
    secret = models.CharField(max_length=100, default=subscription_secret, editable=False)
    is_active = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.event_types or any(
            event_type == pattern or (pattern.endswith("*") and event_type.startswith(pattern[:-1]))
            for pattern in self.event_types
        )


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


class WebhookDelivery(models.Model):
    """One outbox event to one subscription: its attempts, last answer and next retry. The delivery log."""

    Status = DeliveryStatus

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event"], name="webhook_delivery_once_per_event"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhook_delivery_due", condition=Q(status="pending")),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription} ({self.status})"
