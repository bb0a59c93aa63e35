"""POST /api/v1/events: accept behavioural events, answer 202 at once, evaluate triggers on the worker."""

from django.db import transaction
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from audiences.events import MAX_BATCH, Outcome, events_ingest
from shokti.auth import current_organization
from shokti.errors import ApplicationError, validation_message

RESULT = inline_serializer(
    "EventResult",
    {"index": serializers.IntegerField(), "event_id": serializers.CharField(required=False),
     "status": serializers.ChoiceField(["accepted", "duplicate", "rejected"]),
     "errors": serializers.ListField(child=serializers.DictField(), required=False)},
)  # fmt: skip


class EventIngestView(APIView):
    """One event (`{"event_id", "event_type", "user_id", "properties", "occurred_at"}`) or `{"events": […]}`."""

    @extend_schema(
        request=inline_serializer("EventsIn", {"events": serializers.ListField(child=serializers.DictField())}),
        responses={
            202: inline_serializer(
                "EventsAccepted",
                {
                    "accepted": serializers.IntegerField(),
                    "duplicates": serializers.IntegerField(),
                    "rejected": serializers.IntegerField(),
                    "results": serializers.ListField(child=RESULT),
                },
            )
        },
        examples=[
            OpenApiExample(
                "One event",
                request_only=True,
                value={
                    "event_id": "evt_1",
                    "event_type": "booking_completed",
                    "user_id": "usr_42",
                    "properties": {"amount": 1200},
                    "occurred_at": "2026-01-01T10:00:00Z",
                },
            )
        ],
        summary="Send behavioural events (one, or up to 1,000 in a batch)",
        description="Each event is stored once per event_id; bad events are rejected one by one, the rest kept. "
        "Trigger evaluation runs on the worker.",
    )
    def post(self, request):
        from campaigns.tasks import evaluate_events

        organization = current_organization(request)
        body = request.data
        batch = isinstance(body, dict) and "events" in body
        items = body["events"] if batch else [body]
        if not isinstance(items, list) or not 0 < len(items) <= MAX_BATCH:
            raise _invalid([{"loc": ["body", "events"], "msg": f"Expected a list of 1 to {MAX_BATCH} events.",
                             "type": "list_type"}])  # fmt: skip
        result = events_ingest(organization=organization, items=items, loc=("body", "events") if batch else ("body",))
        if result.count(Outcome.REJECTED) == len(items):
            errors = [error for item in result.results for error in item["errors"]]
            if not batch and errors[0]["type"] == "USER_NOT_FOUND":
                raise ApplicationError("USER_NOT_FOUND", errors[0]["msg"], status=404, details={"errors": errors})
            raise _invalid(errors, results=result.results)
        if result.stored_event_ids:
            ids = result.stored_event_ids
            transaction.on_commit(lambda: evaluate_events.delay(organization.pk, ids))
        answer = {"accepted": result.count(Outcome.ACCEPTED), "duplicates": result.count(Outcome.DUPLICATE),
                  "rejected": result.count(Outcome.REJECTED), "results": result.results}  # fmt: skip
        return Response(answer, status=status.HTTP_202_ACCEPTED)


def _invalid(errors: list[dict], **details) -> ApplicationError:
    return ApplicationError("INVALID_REQUEST", validation_message(errors), details={"errors": errors, **details},
                            error="Validation error")  # fmt: skip
