"""Seed 004's campaign_metrics and campaign_conversions, as counters and attributed conversions.

`Counter` rows are the only thing the metrics API and the analysts' pages read:
one row per (campaign, execution, variant, channel, hour, metric), grown by
set-based UPSERTs as batches are recorded and tracking events arrive. The
dimensions are NOT NULL (0 and "" stand for "none") because a NULL never
conflicts in a unique index, which would turn an UPSERT into a second row.
"""

from django.db import models
from django.db.models import Q

from audiences.models import Contact, Event
from campaigns.models import AttributionModel, Campaign, Execution
from messaging.models import Message
from shokti.models import Organization


class Metric:
    """Counter names. Skips are counted per reason as `skipped:<reason>`."""

    SENT = "sent"
    DELIVERED = "delivered"
    OPENED = "opened"  # unique: the first open of a message
    OPENS_REPEAT = "opens_repeat"  # every later open; total opens = opened + opens_repeat
    CLICKED = "clicked"
    CLICKS_REPEAT = "clicks_repeat"
    BOUNCED = "bounced"
    UNSUBSCRIBED = "unsubscribed"
    FAILED = "failed"
    CONVERTED = "converted"  # attribution credit: weights of one conversion sum to 1
    CONVERSION_VALUE = "conversion_value"  # credited value in the event's currency
    HOLDOUT_CONVERTED = "holdout_converted"
    HOLDOUT_CONVERSION_VALUE = "holdout_conversion_value"
    SKIPPED_PREFIX = "skipped:"

    # What message rows alone determine, with the timestamp that buckets each.
    FROM_ROWS = {
        SENT: "sent_at",
        DELIVERED: "delivered_at",
        OPENED: "opened_at",
        CLICKED: "clicked_at",
        BOUNCED: "bounced_at",
        FAILED: "failed_at",
        UNSUBSCRIBED: "unsubscribed_at",
    }
    FROM_CONVERSIONS = (CONVERTED, CONVERSION_VALUE, HOLDOUT_CONVERTED, HOLDOUT_CONVERSION_VALUE)

    @classmethod
    def skipped(cls, reason: str) -> str:
        return f"{cls.SKIPPED_PREFIX}{reason}"


class Counter(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="counters")
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="counters")
    variant_key = models.BigIntegerField(default=0, help_text="The variant's pk; 0 when the campaign has none.")
    channel_type = models.CharField(max_length=20, default="")
    bucket = models.DateTimeField(help_text="Start of the UTC hour the events happened in.")
    metric = models.CharField(max_length=50)
    # Decimal, because linear attribution credits a fraction of a conversion to each touch.
    count = models.DecimalField(max_digits=20, decimal_places=6, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "execution", "variant_key", "channel_type", "bucket", "metric"],
                name="counter_one_row_per_key",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "bucket"], name="counter_campaign_bucket"),
            models.Index(fields=["organization", "bucket"], name="counter_org_bucket"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.bucket:%Y-%m-%d %H}h: {self.count}"


class Conversion(models.Model):
    """One conversion event credited to one message of a campaign, with its attribution weight.

    The unique (campaign, event, message) and the claim in `AttributionCursor`
    keep a conversion event from being counted twice.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="conversions")
    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    event_type = models.CharField(max_length=100)
    variant_key = models.BigIntegerField(default=0)
    channel_type = models.CharField(max_length=20, default="")
    attribution_model = models.CharField(max_length=20, choices=AttributionModel.choices)
    weight = models.DecimalField(max_digits=7, decimal_places=6)
    value = models.DecimalField(
        max_digits=15, decimal_places=2, default=0, help_text="The event's value times the weight: this touch's credit."
    )
    is_holdout = models.BooleanField(default=False, help_text="The contact was held out: no message, only measured.")
    converted_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "event", "message"], name="conversion_once_per_touch"),
            models.CheckConstraint(condition=Q(weight__gt=0) & Q(weight__lte=1), name="conversion_valid_weight"),
        ]
        indexes = [models.Index(fields=["campaign", "converted_at"], name="conversion_campaign_time")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.weight} → {self.campaign_id}"


class AttributionCursor(models.Model):
    """How far the periodic attribution has read the events table (by primary key).

    One row; the task locks it, so two workers never attribute the same events.
    """

    last_event_pk = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"events up to {self.last_event_pk}"
