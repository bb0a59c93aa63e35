"""POST /api/v1/delivery-events: delivery reports from email, SMS and WhatsApp providers."""

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging.delivery import APPLIED, DUPLICATE, INVALID, delivery_events_record
from messaging.models import BounceType, DeliveryEventType
from shokti.auth import current_organization
from shokti.errors import ApplicationError, validation_errors, validation_message

MAX_EVENTS = 1000


class DeliveryEventSerializer(serializers.Serializer):
    event_id = serializers.CharField(max_length=255, help_text="The provider's id: an event is applied once.")
    message_id = serializers.CharField(max_length=64, help_text="The message's public id, msg_…")
    event_type = serializers.ChoiceField(choices=DeliveryEventType.choices)
    occurred_at = serializers.DateTimeField()
    bounce_type = serializers.ChoiceField(choices=BounceType.choices, required=False, help_text="For bounced.")
    reason = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    url = serializers.CharField(required=False, allow_blank=True, max_length=2000, help_text="For clicked.")

    def validate(self, attrs: dict) -> dict:
        if attrs["event_type"] == DeliveryEventType.BOUNCED and not attrs.get("bounce_type"):
            raise serializers.ValidationError(
                {"bounce_type": "A bounced event needs bounce_type hard or soft."}, code="required"
            )
        return attrs


class DeliveryEventsView(APIView):
    """Provider callbacks, scoped to the token's organization; admin or marketer tokens only."""

    @extend_schema(
        summary="Report delivery events (one event, or a batch of up to 1,000)",
        description=(
            'The body is one event, `{"events": [...]}` or a JSON array of events. Each event is applied once '
            "per `event_id`; its result says `applied`, `duplicate`, `not_found` (no such message in this "
            "organization) or `invalid` (with `error`). Hard bounces and complaints suppress the address."
        ),
        request=inline_serializer("DeliveryEventBatch", {"events": DeliveryEventSerializer(many=True)}),
        responses={
            202: inline_serializer(
                "DeliveryEventResults",
                {
                    "accepted": serializers.IntegerField(),
                    "duplicates": serializers.IntegerField(),
                    "results": inline_serializer(
                        "DeliveryEventResult",
                        {
                            "event_id": serializers.CharField(allow_null=True),
                            "status": serializers.ChoiceField(["applied", "duplicate", "not_found", "invalid"]),
                            "error": serializers.CharField(required=False),
                        },
                        many=True,
                    ),
                },
            )
        },
        examples=[
            OpenApiExample(
                "A hard bounce",
                request_only=True,
                value={
                    "event_id": "evt_123",
                    "message_id": "msg_1a",
                    "event_type": "bounced",
                    "bounce_type": "hard",
                    "reason": "550 5.1.1 user unknown",
                    "occurred_at": "2026-01-05T10:00:00Z",
                },
            )
        ],
    )
    def post(self, request):
        results: list[dict | None] = []
        valid = []
        for item in _event_items(request.data):
            serializer = DeliveryEventSerializer(data=item)
            if serializer.is_valid():
                valid.append(serializer.validated_data)
                results.append(None)
            else:
                event_id = item.get("event_id") if isinstance(item, dict) else None
                error = validation_message(validation_errors(serializer.errors))
                results.append({"event_id": event_id, "status": INVALID, "error": error})
        recorded = iter(delivery_events_record(organization=current_organization(request), events=valid))
        results = [result or next(recorded) for result in results]
        counts = {status: sum(result["status"] == status for result in results) for status in (APPLIED, DUPLICATE)}
        return Response({"accepted": counts[APPLIED], "duplicates": counts[DUPLICATE], "results": results}, status=202)


def _event_items(data) -> list:
    """The events of a body: one object, {"events": [...]}, or an array."""
    if isinstance(data, dict):
        data = data.get("events", [data])
    if not isinstance(data, list):
        raise ApplicationError(
            "INVALID_REQUEST", 'The body must be one event, {"events": [...]} or an array of events.'
        )
    if not 1 <= len(data) <= MAX_EVENTS:
        raise ApplicationError("INVALID_REQUEST", f"Send between 1 and {MAX_EVENTS} events at a time.")
    return data
