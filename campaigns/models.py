"""Seed 004's campaign schema, adapted to Django.

Rows carry a bigint primary key for joins and a public string id (`cmp_…`)
for URLs. Seed 004's CHECK constraints are database constraints here; rules
that span rows (allocations summing to 100) are checked by the services.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q

from audiences.models import Segment
from shokti import ids
from shokti.models import Organization


class CampaignQuerySet(models.QuerySet):
    def alive(self):
        return self.filter(deleted_at__isnull=True)


class CampaignType(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    TRIGGERED = "triggered", "Triggered"


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    ACTIVE = "active", "Active"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class ScheduleType(models.TextChoices):
    ONE_TIME = "one_time", "One time"
    RECURRING = "recurring", "Recurring"


class WinnerMetric(models.TextChoices):
    OPEN_RATE = "open_rate", "Open rate"
    CLICK_RATE = "click_rate", "Click rate"
    CONVERSION_RATE = "conversion_rate", "Conversion rate"


class AttributionModel(models.TextChoices):
    FIRST_TOUCH = "first_touch", "First touch"
    LAST_TOUCH = "last_touch", "Last touch"
    LINEAR = "linear", "Linear"


class CampaignPriority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class ContentSource(models.TextChoices):
    TEMPLATE = "template", "Template"
    GENERATOR = "generator", "Generator (SmartEngage)"


class Campaign(models.Model):
    Type = CampaignType
    Status = CampaignStatus
    ContentSource = ContentSource

    FINAL_STATUSES = frozenset({CampaignStatus.COMPLETED, CampaignStatus.CANCELLED})

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="campaigns")
    public_id = models.CharField(max_length=50, unique=True, default=ids.campaign_id, editable=False)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    campaign_type = models.CharField(max_length=20, choices=CampaignType.choices)
    # Where each message's text comes from: the channel's templates, or the generator (SmartEngage).
    content_source = models.CharField(
        max_length=20, choices=ContentSource.choices, default=ContentSource.TEMPLATE, db_default=ContentSource.TEMPLATE
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    status_before_pause = models.CharField(max_length=20, choices=Status.choices, blank=True)

    # Scheduling
    schedule_type = models.CharField(max_length=20, choices=ScheduleType.choices, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    cron_expression = models.CharField(max_length=100, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")

    # Throttling and send window (hours in the contact's local time)
    throttle_per_minute = models.PositiveIntegerField(null=True, blank=True)
    throttle_per_hour = models.PositiveIntegerField(null=True, blank=True)
    send_window_start = models.PositiveSmallIntegerField(null=True, blank=True)
    send_window_end = models.PositiveSmallIntegerField(null=True, blank=True)
    exclude_weekends = models.BooleanField(default=False)

    # A/B testing
    enable_ab_testing = models.BooleanField(default=False)
    auto_winner_enabled = models.BooleanField(default=False)
    auto_winner_metric = models.CharField(max_length=50, choices=WinnerMetric.choices, blank=True)
    auto_winner_confidence = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0.95"))
    auto_winner_min_sample = models.PositiveIntegerField(default=1000)
    winner_variant = models.ForeignKey(
        "Variant", null=True, blank=True, on_delete=models.SET_NULL, related_name="won_campaigns"
    )

    # Conversions
    conversion_event_type = models.CharField(max_length=100, blank=True)
    attribution_window_days = models.PositiveIntegerField(default=7)
    attribution_model = models.CharField(
        max_length=20, choices=AttributionModel.choices, default=AttributionModel.LAST_TOUCH
    )

    holdout_percentage = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))

    # Notify (seed 002): what the recommender embeds and ranks, and when the campaign may be offered.
    category = models.CharField(max_length=64, blank=True)
    priority = models.CharField(max_length=10, choices=CampaignPriority.choices, default=CampaignPriority.MEDIUM)
    time_window_start = models.DateTimeField(null=True, blank=True)
    time_window_end = models.DateTimeField(null=True, blank=True)

    tags = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    # Audit: actors are usernames, or "system" for beat and internal callers.
    created_by = models.CharField(max_length=150)
    updated_by = models.CharField(max_length=150, blank=True)
    scheduled_by = models.CharField(max_length=150, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    paused_by = models.CharField(max_length=150, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=150, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_reason = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    cloned_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="clones")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "status"], name="campaign_org_status"),
            models.Index(fields=["organization", "campaign_type"], name="campaign_org_type"),
            models.Index(
                fields=["scheduled_at"], name="campaign_scheduled_at", condition=Q(scheduled_at__isnull=False)
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=CampaignStatus.values), name="campaign_valid_status"),
            models.CheckConstraint(condition=Q(campaign_type__in=CampaignType.values), name="campaign_valid_type"),
            models.CheckConstraint(
                condition=Q(schedule_type__in=[*ScheduleType.values, ""]),
                name="campaign_valid_schedule_type",
            ),
            models.CheckConstraint(
                condition=Q(holdout_percentage__gte=0) & Q(holdout_percentage__lte=20), name="campaign_valid_holdout"
            ),
            models.CheckConstraint(
                condition=(Q(send_window_start__isnull=True) | Q(send_window_start__lte=23))
                & (Q(send_window_end__isnull=True) | Q(send_window_end__lte=23)),
                name="campaign_valid_send_window",
            ),
            models.CheckConstraint(
                condition=Q(auto_winner_confidence__gt=0) & Q(auto_winner_confidence__lt=1),
                name="campaign_valid_winner_confidence",
            ),
            models.CheckConstraint(condition=Q(attribution_window_days__gte=1), name="campaign_valid_attribution"),
            models.CheckConstraint(condition=Q(priority__in=CampaignPriority.values), name="campaign_valid_priority"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

    def is_editable(self) -> bool:
        return self.status in {self.Status.DRAFT, self.Status.SCHEDULED, self.Status.PAUSED}


class SegmentType(models.TextChoices):
    INCLUDE = "include", "Include"
    EXCLUDE = "exclude", "Exclude"


class CampaignAudience(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="audiences")
    public_id = models.CharField(max_length=50, unique=True, default=ids.audience_id, editable=False)
    segment_type = models.CharField(max_length=20, choices=SegmentType.choices, default=SegmentType.INCLUDE)
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.PROTECT, related_name="campaign_audiences"
    )
    segment_query = models.JSONField(null=True, blank=True, help_text="Inline conditions, when no segment is named.")
    name = models.CharField(max_length=255, blank=True)
    estimated_size = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(segment_type__in=SegmentType.values), name="audience_valid_segment_type"
            ),
            models.CheckConstraint(
                condition=Q(segment__isnull=False) | Q(segment_query__isnull=False),
                name="audience_has_segment_or_query",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.segment_type}: {self.name or self.segment or 'inline rules'}"


class Variant(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
    public_id = models.CharField(max_length=50, unique=True, default=ids.variant_id, editable=False)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    allocation_percentage = models.DecimalField(max_digits=5, decimal_places=2)
    is_control = models.BooleanField(default=False, help_text="Control contacts get no message but are measured.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(allocation_percentage__gte=0) & Q(allocation_percentage__lte=100),
                name="variant_valid_allocation",
            ),
            models.UniqueConstraint(fields=["campaign"], condition=Q(is_control=True), name="variant_one_control"),
        ]

    def __str__(self) -> str:
        return self.name


class ChannelType(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    IN_APP = "in_app", "In-app"
    WEBHOOK = "webhook", "Webhook"


class Channel(models.Model):
    Type = ChannelType

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="channels")
    variant = models.ForeignKey(Variant, null=True, blank=True, on_delete=models.CASCADE, related_name="channels")
    public_id = models.CharField(max_length=50, unique=True, default=ids.channel_id, editable=False)
    channel_type = models.CharField(max_length=20, choices=Type.choices)
    enabled = models.BooleanField(default=True)
    priority = models.PositiveSmallIntegerField(default=0, help_text="Fallback order: lower goes first.")

    email_subject = models.CharField(max_length=255, blank=True)
    email_body_html = models.TextField(blank=True)
    email_body_text = models.TextField(blank=True)
    email_sender_name = models.CharField(max_length=100, blank=True)
    email_sender_email = models.EmailField(max_length=255, blank=True)
    email_reply_to = models.EmailField(max_length=255, blank=True)

    sms_body = models.TextField(blank=True, help_text="Long bodies are sent as several segments.")

    whatsapp_body = models.CharField(max_length=1600, blank=True)
    whatsapp_template_id = models.CharField(max_length=100, blank=True)

    in_app_title = models.CharField(max_length=255, blank=True)
    in_app_body = models.TextField(blank=True)
    in_app_action_url = models.URLField(max_length=2000, blank=True)
    in_app_icon = models.CharField(max_length=255, blank=True)

    webhook_url = models.URLField(max_length=2000, blank=True)
    webhook_method = models.CharField(max_length=10, default="POST")
    webhook_headers = models.JSONField(default=dict, blank=True)
    webhook_payload_template = models.TextField(blank=True)

    template_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(channel_type__in=ChannelType.values), name="channel_valid_type"),
            models.CheckConstraint(
                condition=Q(webhook_method__in=["POST", "PUT", "PATCH"]), name="channel_valid_webhook_method"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_type_display()} ({self.public_id})"


class Trigger(models.Model):
    USER_LOCAL = "user_local"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="triggers")
    public_id = models.CharField(max_length=50, unique=True, default=ids.trigger_id, editable=False)
    event_type = models.CharField(max_length=100)
    conditions = models.JSONField(default=list, blank=True, help_text="[{field, operator, value}], all must hold.")
    delay_minutes = models.PositiveIntegerField(default=0)
    delay_days = models.PositiveIntegerField(default=0)
    frequency_limit = models.PositiveIntegerField(default=1)
    frequency_window_hours = models.PositiveIntegerField(default=24)
    quiet_hours_start = models.PositiveSmallIntegerField(null=True, blank=True)
    quiet_hours_end = models.PositiveSmallIntegerField(null=True, blank=True)
    quiet_hours_timezone = models.CharField(max_length=64, default=USER_LOCAL)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["event_type"], name="trigger_event_type", condition=Q(enabled=True)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(quiet_hours_start__isnull=True) | Q(quiet_hours_start__lte=23))
                & (Q(quiet_hours_end__isnull=True) | Q(quiet_hours_end__lte=23)),
                name="trigger_valid_quiet_hours",
            ),
            models.CheckConstraint(condition=Q(frequency_limit__gte=1), name="trigger_valid_frequency_limit"),
            models.CheckConstraint(condition=Q(frequency_window_hours__gte=1), name="trigger_valid_frequency_window"),
        ]

    def __str__(self) -> str:
        return f"on {self.event_type}"


class ExecutionType(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    TRIGGERED = "triggered", "Triggered"
    MANUAL = "manual", "Manual"


class ExecutionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Execution(models.Model):
    Type = ExecutionType

    Status = ExecutionStatus

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="executions")
    public_id = models.CharField(max_length=50, unique=True, default=ids.execution_id, editable=False)
    execution_type = models.CharField(max_length=20, choices=Type.choices)
    occurrence_key = models.CharField(
        max_length=100,
        help_text="One execution per occurrence: the scheduled time, the event id, or a manual run's id.",
    )
    trigger_event_id = models.CharField(max_length=128, blank=True)
    # A Notify slot sends to one contact on one channel, not to the campaign's audience.
    only_contact = models.ForeignKey(
        "audiences.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    only_channel_type = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    correlation_id = models.CharField(max_length=128, blank=True)

    total_audience_size = models.PositiveIntegerField(default=0)
    holdout_size = models.PositiveIntegerField(default=0)
    messages_queued = models.PositiveIntegerField(default=0)
    messages_sent = models.PositiveIntegerField(default=0)
    messages_delivered = models.PositiveIntegerField(default=0)
    messages_failed = models.PositiveIntegerField(default=0)

    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status"], name="execution_status")]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "occurrence_key"], name="execution_once_per_occurrence"),
            models.CheckConstraint(condition=Q(status__in=ExecutionStatus.values), name="execution_valid_status"),
        ]

    def __str__(self) -> str:
        return self.public_id


class ThrottleWindow(models.Model):
    """Messages sent by a campaign in one minute or hour: the throttle shared by every worker."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10)  # "minute" or "hour"
    window_start = models.DateTimeField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "kind", "window_start"], name="throttle_window_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} from {self.window_start:%Y-%m-%d %H:%M}: {self.used}"


class TriggerSkipReason(models.TextChoices):
    CAMPAIGN_PAUSED = "campaign_paused", "Campaign paused"
    CONDITIONS_NOT_MET = "conditions_not_met", "Conditions not met"
    NOT_IN_SEGMENT = "not_in_segment", "Not in the campaign's audience"
    ALREADY_TRIGGERED = "already_triggered", "A send for this contact is already waiting"
    FREQUENCY_LIMIT = "frequency_limit", "Frequency limit"
    QUIET_HOURS = "quiet_hours", "Quiet hours"


class TriggerDeferral(models.TextChoices):
    QUIET_HOURS = "quiet_hours", "Quiet hours"
    SEND_WINDOW = "send_window", "Campaign send window or the organization's quiet hours"


def trigger_history_id() -> str:
    return ids.new_public_id("trh")


class TriggerHistory(models.Model):
    """Seed 004's campaign_trigger_history: one row per (trigger, event) evaluation and its decision.

    A send pushed out of quiet hours is triggered and deferred, never dropped
    (DESIGN.md, policy): `deferred_reason` says why `scheduled_send_at` is later
    than the delay alone.
    """

    SkipReason = TriggerSkipReason

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    public_id = models.CharField(max_length=50, unique=True, default=trigger_history_id, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="trigger_history")
    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="history")
    contact = models.ForeignKey("audiences.Contact", null=True, on_delete=models.SET_NULL, related_name="+")
    event_id = models.CharField(max_length=128)
    event_type = models.CharField(max_length=100)
    user_id = models.CharField(max_length=255)
    triggered = models.BooleanField()
    skip_reason = models.CharField(max_length=32, choices=TriggerSkipReason.choices, blank=True)
    deferred_reason = models.CharField(max_length=32, choices=TriggerDeferral.choices, blank=True)
    execution = models.ForeignKey(Execution, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event_received_at = models.DateTimeField(help_text="When the event was accepted: the start of its latency.")
    evaluated_at = models.DateTimeField()
    scheduled_send_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-evaluated_at", "-id"]
        verbose_name_plural = "trigger history"
        constraints = [
            # A redelivered evaluation task finds its decisions made and writes nothing twice.
            models.UniqueConstraint(fields=["trigger", "event_id"], name="trigger_history_once_per_event"),
            models.CheckConstraint(
                condition=Q(triggered=True, skip_reason="") | Q(triggered=False) & ~Q(skip_reason=""),
                name="trigger_history_skip_reason_iff_skipped",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "evaluated_at"], name="trigger_history_campaign"),
            models.Index(fields=["trigger", "contact", "evaluated_at"], name="trigger_history_frequency",
                         condition=Q(triggered=True)),
            models.Index(fields=["user_id"], name="trigger_history_user"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}: {'triggered' if self.triggered else self.skip_reason}"


# --- Notify (seed 002): per-contact daily schedules and their timed sends ----------------------------


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CLICKED = "clicked", "Clicked"


class NotificationSchedule(models.Model):
    """One contact's optimised notifications for one day (seed 002's Notification Schedule Object)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    public_id = models.CharField(max_length=50, unique=True, default=ids.schedule_id, editable=False)
    contact = models.ForeignKey("audiences.Contact", on_delete=models.CASCADE, related_name="notification_schedules")
    schedule_date = models.DateField()
    timezone = models.CharField(max_length=64, default="UTC")
    constraints = models.JSONField(default=dict, blank=True)
    optimization_score = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.public_id


class ScheduledNotification(models.Model):
    Status = NotificationStatus

    schedule = models.ForeignKey(NotificationSchedule, on_delete=models.CASCADE, related_name="notifications")
    sequence = models.PositiveSmallIntegerField()
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    scheduled_time = models.DateTimeField()
    priority = models.CharField(max_length=10, choices=CampaignPriority.choices)
    estimated_ctr = models.FloatField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    channel_type = models.CharField(max_length=20, blank=True, help_text="Set when its timed send is registered.")
    execution = models.ForeignKey(Execution, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    delivery_time = models.DateTimeField(null=True, blank=True)
    click_time = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["schedule", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "sequence"], name="notification_sequence_unique"),
            models.CheckConstraint(condition=Q(status__in=NotificationStatus.values), name="notification_valid_status"),
        ]

    def __str__(self) -> str:
        return f"{self.schedule.public_id}#{self.sequence}"


class NotifyRequest(models.Model):
    """The first answer to an Idempotency-Key (or seed 002's request_id), replayed for its repeats."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    endpoint = models.CharField(max_length=50)
    key = models.CharField(max_length=255)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "endpoint", "key"], name="notify_request_once"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key}"


class SmartEngageRunKind(models.TextChoices):
    SEGMENT = "segment", "Segment run (run-segment)"
    DAILY = "daily", "Daily run (celery-beat)"
    SINGLE = "single", "Single send"
    BULK = "bulk", "Bulk send"


class SmartEngageRunStatus(models.TextChoices):
    RUNNING = "RUNNING", "Running"
    DONE = "DONE", "Done"
    FAILED = "FAILED", "Failed"
    SKIPPED_LOCKED = "SKIPPED_LOCKED", "Skipped: another run held the lock"


class SmartEngageRun(models.Model):
    """One SmartEngage run: its parameters and the execution that carries its messages (jobs/history)."""

    Kind = SmartEngageRunKind
    Status = SmartEngageRunStatus

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    correlation_id = models.CharField(max_length=128, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    execution = models.OneToOneField(
        Execution, null=True, blank=True, on_delete=models.SET_NULL, related_name="smartengage_run"
    )
    params = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["organization", "started_at"], name="smartengage_run_org_started")]

    def __str__(self) -> str:
        return f"{self.kind} {self.correlation_id} ({self.status})"


class JobLease(models.Model):
    """A named lock for databases without advisory locks (SQLite): held until `expires_at`."""

    name = models.CharField(max_length=100, unique=True)
    holder = models.CharField(max_length=64)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder} until {self.expires_at:%Y-%m-%d %H:%M:%S}"
