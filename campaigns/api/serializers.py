"""Request and response bodies of seed 004's campaign API."""

from decimal import Decimal

from django.utils import timezone
from rest_framework import serializers

from audiences.models import Contact, Segment
from audiences.segments import validate_conditions
from campaigns import validation
from campaigns.models import Campaign, CampaignAudience, Channel, ChannelType, Execution, Trigger, Variant
from campaigns.triggers import trigger_conditions_validate
from shokti.errors import ApplicationError

CONDITION_OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "contains", "exists", "within_last_days")

CHANNEL_CONTENT_FIELDS = [
    "email_subject", "email_body_html", "email_body_text", "email_sender_name", "email_sender_email",
    "email_reply_to", "sms_body", "whatsapp_body", "whatsapp_template_id", "in_app_title", "in_app_body",
    "in_app_action_url", "in_app_icon", "webhook_url", "webhook_method", "webhook_headers",
    "webhook_payload_template", "template_id",
]  # fmt: skip


def _hour_field(**kwargs):
    return serializers.IntegerField(min_value=0, max_value=23, required=False, allow_null=True, **kwargs)


class ChannelSerializer(serializers.ModelSerializer):
    channel_id = serializers.CharField(source="public_id", read_only=True)
    variant_id = serializers.CharField(source="variant.public_id", read_only=True, default=None)
    channel_type = serializers.ChoiceField(choices=ChannelType.choices)

    class Meta:
        model = Channel
        fields = ["channel_id", "variant_id", "channel_type", "enabled", "priority", *CHANNEL_CONTENT_FIELDS,
                  "created_at", "updated_at"]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]

    def validate_webhook_headers(self, value):
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            raise serializers.ValidationError("Headers are an object of strings.")
        return value


class VariantSerializer(serializers.ModelSerializer):
    variant_id = serializers.CharField(source="public_id", read_only=True)
    allocation_percentage = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)
    channels = ChannelSerializer(many=True, required=False)

    class Meta:
        model = Variant
        fields = ["variant_id", "name", "description", "allocation_percentage", "is_control", "channels",
                  "created_at", "updated_at"]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["channels"] = ChannelSerializer(instance.channels.all(), many=True).data
        return data


class ConditionSerializer(serializers.Serializer):
    field = serializers.CharField(max_length=200)
    operator = serializers.ChoiceField(choices=CONDITION_OPERATORS)
    value = serializers.JSONField(required=False, allow_null=True)

    def validate(self, attrs):
        if attrs["operator"] != "exists" and "value" not in attrs:
            raise serializers.ValidationError({"value": "This field is required for this operator."})
        if attrs["operator"] == "in" and not isinstance(attrs.get("value"), list):
            raise serializers.ValidationError({"value": "The in operator takes a list."})
        return attrs


class TriggerSerializer(serializers.ModelSerializer):
    trigger_id = serializers.CharField(source="public_id", read_only=True)
    conditions = ConditionSerializer(many=True, required=False)
    quiet_hours_start = _hour_field()
    quiet_hours_end = _hour_field()
    frequency_limit = serializers.IntegerField(min_value=1, required=False)
    frequency_window_hours = serializers.IntegerField(min_value=1, required=False)

    class Meta:
        model = Trigger
        fields = ["trigger_id", "event_type", "conditions", "delay_minutes", "delay_days", "frequency_limit",
                  "frequency_window_hours", "quiet_hours_start", "quiet_hours_end", "quiet_hours_timezone",
                  "enabled", "created_at", "updated_at"]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]

    def validate_conditions(self, value):
        # Event properties and contact fields with the segments' operators (campaigns.triggers).
        try:
            trigger_conditions_validate(value)
        except ApplicationError as error:
            raise serializers.ValidationError(error.message) from None
        return value

    def validate_quiet_hours_timezone(self, value):
        if value != Trigger.USER_LOCAL and (message := validation.timezone_error(value)):
            raise serializers.ValidationError(message)
        return value

    def validate(self, attrs):
        start, end = attrs.get("quiet_hours_start"), attrs.get("quiet_hours_end")
        if (start is None) != (end is None) and not self.partial:
            raise serializers.ValidationError({"quiet_hours_end": "Give both quiet_hours_start and quiet_hours_end."})
        return attrs


class AudienceSerializer(serializers.ModelSerializer):
    audience_id = serializers.CharField(source="public_id", read_only=True)
    segment_id = serializers.CharField(required=False, allow_null=True, max_length=64)
    segment_query = serializers.JSONField(required=False, allow_null=True)

    class Meta:
        model = CampaignAudience
        fields = ["audience_id", "segment_type", "segment_id", "segment_query", "name", "estimated_size",
                  "created_at", "updated_at"]  # fmt: skip
        read_only_fields = ["estimated_size", "created_at", "updated_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["segment_id"] = instance.segment.public_id if instance.segment_id else None
        return data

    def validate_segment_query(self, value):
        if value is not None:
            validate_conditions(value)
        return value

    def validate(self, attrs):
        segment_id = attrs.pop("segment_id", None)
        if segment_id:
            organization = self.context["organization"]
            segment = Segment.objects.filter(organization=organization, public_id=segment_id).first()
            if segment is None:
                raise serializers.ValidationError({"segment_id": f"Unknown segment '{segment_id}'."})
            attrs["segment"] = segment
        if not self.partial and not attrs.get("segment") and attrs.get("segment_query") is None:
            raise serializers.ValidationError({"segment_id": "Give a segment_id or an inline segment_query."})
        return attrs


class CampaignSerializer(serializers.ModelSerializer):
    """A campaign's own fields, as every answer shows them."""

    campaign_id = serializers.CharField(source="public_id", read_only=True)
    name = serializers.CharField(min_length=1, max_length=255)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    holdout_percentage = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=20, required=False
    )
    send_window_start = _hour_field()
    send_window_end = _hour_field()
    throttle_per_minute = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    throttle_per_hour = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    auto_winner_confidence = serializers.DecimalField(
        max_digits=5, decimal_places=4, min_value=Decimal("0.5"), max_value=Decimal("0.9999"), required=False
    )
    attribution_window_days = serializers.IntegerField(min_value=1, max_value=365, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=50)
    metadata = serializers.DictField(required=False)
    winner_variant_id = serializers.CharField(source="winner_variant.public_id", read_only=True, default=None)
    cloned_from_id = serializers.CharField(source="cloned_from.public_id", read_only=True, default=None)
    organization_id = serializers.CharField(source="organization.slug", read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "campaign_id", "organization_id", "name", "description", "campaign_type", "status",
            "schedule_type", "scheduled_at", "cron_expression", "timezone",
            "throttle_per_minute", "throttle_per_hour", "send_window_start", "send_window_end", "exclude_weekends",
            "enable_ab_testing", "auto_winner_enabled", "auto_winner_metric", "auto_winner_confidence",
            "auto_winner_min_sample", "winner_variant_id",
            "conversion_event_type", "attribution_window_days", "attribution_model",
            "holdout_percentage", "tags", "metadata",
            "category", "priority", "time_window_start", "time_window_end",
            "created_by", "updated_by", "scheduled_by", "activated_at", "paused_by", "paused_at",
            "cancelled_by", "cancelled_at", "cancelled_reason", "completed_at", "cloned_from_id",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "status", "created_by", "updated_by", "scheduled_by", "activated_at", "paused_by", "paused_at",
            "cancelled_by", "cancelled_at", "cancelled_reason", "completed_at", "created_at", "updated_at",
        ]  # fmt: skip

    def validate_timezone(self, value):
        if message := validation.timezone_error(value):
            raise serializers.ValidationError(message)
        return value

    def validate_cron_expression(self, value):
        if value and (message := validation.cron_error(value)):
            raise serializers.ValidationError(message)
        return value

    def validate_scheduled_at(self, value):
        if value is not None and (message := validation.scheduled_at_error(value)):
            raise serializers.ValidationError(message)
        return value

    def validate(self, attrs):
        start = attrs.get("send_window_start", getattr(self.instance, "send_window_start", None))
        end = attrs.get("send_window_end", getattr(self.instance, "send_window_end", None))
        if start is not None and end is not None and start == end:
            raise serializers.ValidationError({"send_window_end": "The send window cannot be empty."})
        return attrs


class CampaignCreateSerializer(CampaignSerializer):
    """Seed 004's create body: the campaign with its parts in one request."""

    audiences = AudienceSerializer(many=True, required=False)
    channels = ChannelSerializer(many=True, required=False)
    variants = VariantSerializer(many=True, required=False)
    triggers = TriggerSerializer(many=True, required=False)

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "audiences", "channels", "variants", "triggers"]


class CampaignUpdateSerializer(CampaignSerializer):
    class Meta(CampaignSerializer.Meta):
        read_only_fields = [*CampaignSerializer.Meta.read_only_fields, "campaign_type"]


class CampaignDetailSerializer(CampaignSerializer):
    audiences = AudienceSerializer(many=True, read_only=True)
    channels = serializers.SerializerMethodField()
    variants = VariantSerializer(many=True, read_only=True)
    triggers = TriggerSerializer(many=True, read_only=True)
    metrics = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "audiences", "channels", "variants", "triggers", "metrics",
                  "allowed_actions"]  # fmt: skip

    def get_channels(self, campaign) -> list[dict]:
        return ChannelSerializer([c for c in campaign.channels.all() if c.variant_id is None], many=True).data

    def get_metrics(self, campaign) -> dict:
        from campaigns.selectors import campaign_headline_metrics

        return campaign_headline_metrics(campaign)

    def get_allowed_actions(self, campaign) -> list[str]:
        from campaigns.lifecycle import allowed_actions

        return allowed_actions(campaign)


class ExecutionSerializer(serializers.ModelSerializer):
    execution_id = serializers.CharField(source="public_id", read_only=True)
    campaign_id = serializers.CharField(source="campaign.public_id", read_only=True)

    class Meta:
        model = Execution
        fields = ["execution_id", "campaign_id", "execution_type", "trigger_event_id", "status", "correlation_id",
                  "total_audience_size", "holdout_size", "messages_queued", "messages_sent", "messages_delivered",
                  "messages_failed", "started_at", "completed_at", "paused_at", "created_at", "updated_at"]  # fmt: skip
        read_only_fields = fields


# --- action bodies ----------------------------------------------------------------------------


class ScheduleRequestSerializer(serializers.Serializer):
    scheduled_at = serializers.DateTimeField(required=False)

    def validate_scheduled_at(self, value):
        if message := validation.scheduled_at_error(value):
            raise serializers.ValidationError(message)
        return value


class CancelRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class CloneRequestSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class PreviewRequestSerializer(serializers.Serializer):
    variant_id = serializers.CharField(required=False, allow_null=True)
    channel_type = serializers.ChoiceField(choices=ChannelType.choices)
    sample_user_id = serializers.CharField(required=False, allow_null=True)


class EstimateResponseSerializer(serializers.Serializer):
    estimated_size = serializers.IntegerField()
    by_segment = serializers.ListField(child=serializers.DictField())
    after_exclusions = serializers.IntegerField()
    after_holdout = serializers.IntegerField()
    estimated_at = serializers.DateTimeField(default=timezone.now)


def sample_contact(organization) -> Contact:
    """An unsaved stand-in for previews without a sample user."""
    return Contact(
        organization=organization,
        external_id="sample_user",
        first_name="Ayesha",
        last_name="Rahman",
        email="ayesha@example.com",
        phone="+8801700000000",
        locale="bn",
        attributes={"plan": "premium"},
    )
