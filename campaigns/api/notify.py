"""Seed 002's Notify functions under /api/v1/notify/: validate the body, call one service, answer."""

import re

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import notify_services
from campaigns.models import CampaignPriority, ChannelType
from campaigns.validation import timezone_error
from shokti.auth import current_organization
from shokti.errors import ApplicationError, validation_errors, validation_message
from shokti.models import Role

HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_NOTIFICATIONS = 5
CHANNELS = ["push", *ChannelType.values]


def _clock_time(value: str) -> str:
    if not HH_MM.match(value):
        raise serializers.ValidationError("Use HH:MM (00:00 to 23:59).", code="pattern")
    return value


def _timezone(value: str) -> str:
    if message := timezone_error(value):
        raise serializers.ValidationError(message, code="timezone")
    return value


class TimeWindowSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()

    def validate(self, attrs):
        if attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"end": "Must be after start."})
        return attrs


class RecommendRequestSerializer(serializers.Serializer):
    user_id = serializers.CharField(max_length=255)
    num_recommendations = serializers.IntegerField(min_value=1, max_value=20, default=10)
    exclude_campaign_ids = serializers.ListField(child=serializers.CharField(max_length=50), default=list)
    time_window = TimeWindowSerializer(required=False)


class UserEmbeddingRequestSerializer(serializers.Serializer):
    user_id = serializers.CharField(max_length=255)
    embedding_version = serializers.CharField(max_length=20, required=False)


class QuietHoursSerializer(serializers.Serializer):
    start = serializers.CharField(validators=[_clock_time])
    end = serializers.CharField(validators=[_clock_time])


class PreferencesSerializer(serializers.Serializer):
    preferred_times = serializers.ListField(
        child=serializers.CharField(validators=[_clock_time]), default=list, max_length=24
    )
    blackout_dates = serializers.ListField(child=serializers.DateField(), default=list, max_length=366)


class ConstraintsSerializer(serializers.Serializer):
    # Above 5 is MAX_NOTIFICATIONS_EXCEEDED, not a validation error (see ScheduleView).
    max_notifications_per_day = serializers.IntegerField(min_value=1)
    quiet_hours = QuietHoursSerializer(required=False)
    user_preferences = PreferencesSerializer(required=False)
    min_gap_minutes = serializers.IntegerField(min_value=0, max_value=720, default=60)


class RecommendedCampaignSerializer(serializers.Serializer):
    campaign_id = serializers.CharField(max_length=50)
    similarity_score = serializers.FloatField(min_value=0, max_value=1)
    priority = serializers.ChoiceField(choices=CampaignPriority.values, required=False)


class ScheduleRequestSerializer(serializers.Serializer):
    user_id = serializers.CharField(max_length=255)
    recommended_campaigns = RecommendedCampaignSerializer(many=True, allow_empty=False, max_length=20)
    constraints = ConstraintsSerializer()
    schedule_date = serializers.DateField()
    timezone = serializers.CharField(required=False, validators=[_timezone])
    request_id = serializers.CharField(max_length=255, required=False)

    def validate_recommended_campaigns(self, value):
        ids = [item["campaign_id"] for item in value]
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError("Each campaign may appear once.", code="unique")
        return value


class DeliveryNotificationSerializer(serializers.Serializer):
    sequence = serializers.IntegerField(min_value=1, max_value=MAX_NOTIFICATIONS)
    campaign_id = serializers.CharField(max_length=50)
    scheduled_time = serializers.DateTimeField(default_timezone=None)


class DeliveryRequestSerializer(serializers.Serializer):
    schedule_id = serializers.CharField(max_length=50)
    user_id = serializers.CharField(max_length=255)
    notifications = DeliveryNotificationSerializer(many=True, allow_empty=False, max_length=MAX_NOTIFICATIONS)
    timezone = serializers.CharField(validators=[_timezone])
    channel = serializers.ChoiceField(choices=CHANNELS, default="push")
    request_id = serializers.CharField(max_length=255, required=False)

    def validate_channel(self, value):
        return ChannelType.IN_APP if value == "push" else value


def _invalid(serializer, code: str = "INVALID_REQUEST") -> ApplicationError:
    errors = validation_errors(serializer.errors)
    return ApplicationError(
        code, validation_message(errors), details={"errors": errors}, error="Validation error", status=400
    )


class NotifyView(APIView):
    """POST-only; `reads` lets analysts call the endpoints that change nothing."""

    reads = False
    http_method_names = ["post", "options"]

    @property
    def write_roles(self):
        return (Role.ADMIN, Role.MARKETER, Role.ANALYST) if self.reads else (Role.ADMIN, Role.MARKETER)

    def validated(self, serializer_class, code: str = "INVALID_REQUEST") -> dict:
        serializer = serializer_class(data=self.request.data)
        if not serializer.is_valid():
            raise _invalid(serializer, code)
        return serializer.validated_data

    def idempotency_key(self, data: dict) -> str | None:
        return self.request.headers.get("Idempotency-Key") or data.get("request_id")


class RecommendView(NotifyView):
    reads = True

    @extend_schema(request=RecommendRequestSerializer, responses=inline_serializer("Recommendations", {}))
    def post(self, request):
        data = self.validated(RecommendRequestSerializer)
        window = data.get("time_window")
        body = notify_services.recommendations_get(
            organization=current_organization(request), user_id=data["user_id"],
            count=data["num_recommendations"], exclude_campaign_ids=data["exclude_campaign_ids"],
            window=(window["start"], window["end"]) if window else None,
        )  # fmt: skip
        return Response(body)


class UserEmbeddingView(NotifyView):
    reads = True

    @extend_schema(request=UserEmbeddingRequestSerializer, responses=inline_serializer("UserEmbedding", {}))
    def post(self, request):
        data = self.validated(UserEmbeddingRequestSerializer)
        return Response(
            notify_services.user_embedding_get(
                organization=current_organization(request),
                user_id=data["user_id"],
                embedding_version=data.get("embedding_version"),
            )
        )


class ScheduleView(NotifyView):
    @extend_schema(request=ScheduleRequestSerializer, responses=inline_serializer("NotificationSchedule", {}))
    def post(self, request):
        serializer = ScheduleRequestSerializer(data=request.data)
        if not serializer.is_valid():
            raise _invalid(
                serializer, "INVALID_CONSTRAINTS" if "constraints" in serializer.errors else "INVALID_REQUEST"
            )
        data = serializer.validated_data
        cap = data["constraints"]["max_notifications_per_day"]
        if cap > MAX_NOTIFICATIONS:
            raise ApplicationError(
                "MAX_NOTIFICATIONS_EXCEEDED",
                f"max_notifications_per_day is {cap}; at most {MAX_NOTIFICATIONS} notifications a day are allowed.",
            )
        organization = current_organization(request)
        status, body = notify_services.idempotent(
            organization, "create-notification-schedule", self.idempotency_key(data),
            lambda: (200, notify_services.schedule_create(organization=organization, data=data)),
        )  # fmt: skip
        return Response(body, status=status)


class ScheduleDetailView(APIView):
    """GET /api/v1/notify/schedules/{schedule_id}: a stored schedule with each notification's status."""

    @extend_schema(responses=inline_serializer("StoredNotificationSchedule", {}))
    def get(self, request, schedule_id: str):
        return Response(
            notify_services.schedule_get(organization=current_organization(request), schedule_id=schedule_id)
        )


class DeliveryScheduleView(NotifyView):
    @extend_schema(request=DeliveryRequestSerializer, responses=inline_serializer("DeliverySchedule", {}))
    def post(self, request):
        data = self.validated(DeliveryRequestSerializer)
        organization = current_organization(request)
        status, body = notify_services.idempotent(
            organization, "create-delivery-schedule", self.idempotency_key(data),
            lambda: (201, notify_services.delivery_schedule_create(organization=organization, data=data)),
        )  # fmt: skip
        return Response(body, status=status)
