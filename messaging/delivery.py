"""Provider callbacks: each event stored once per (organization, event_id), then applied to its message."""

from django.db import transaction

from audiences.models import Suppression
from messaging import tracking
from messaging.models import DeliveryEvent, DeliveryEventType, Message

APPLIED = "applied"
DUPLICATE = "duplicate"
NOT_FOUND = "not_found"
INVALID = "invalid"


def delivery_events_record(*, organization, events: list[dict]) -> list[dict]:
    """Stores and applies validated provider events of one organization; one result per event, in order.

    Each event commits on its own, so one that fails leaves the others applied.
    A message of another organization is reported not found and left alone.
    """
    public_ids = {event["message_id"] for event in events}
    pks = {pk for pk in map(Message.pk_from_public_id, public_ids) if pk is not None}
    messages = Message.objects.filter(organization=organization, pk__in=pks).select_related("campaign", "contact")
    by_pk = {message.pk: message for message in messages}
    results = []
    for event in events:
        message = by_pk.get(Message.pk_from_public_id(event["message_id"]))
        if message is None:
            error = f"No message {event['message_id']} in this organization."
            results.append({"event_id": event["event_id"], "status": NOT_FOUND, "error": error})
            continue
        status = APPLIED if _store_and_apply(organization, message, event) else DUPLICATE
        results.append({"event_id": event["event_id"], "status": status})
    return results


@transaction.atomic
def _store_and_apply(organization, message: Message, event: dict) -> bool:
    _, created = DeliveryEvent.objects.get_or_create(
        organization=organization,
        event_id=event["event_id"],
        defaults={
            "message": message,
            "event_type": event["event_type"],
            "bounce_type": event.get("bounce_type", ""),
            "reason": event.get("reason", ""),
            "url": event.get("url", ""),
            "occurred_at": event["occurred_at"],
        },
    )
    if created:
        _apply(message, event)
    return created


def _apply(message: Message, event: dict) -> None:
    at, reason = event["occurred_at"], event.get("reason", "")
    payload = {"source": "provider", "provider_event_id": event["event_id"]}
    match event["event_type"]:
        case DeliveryEventType.DELIVERED:
            tracking.message_record_delivered(message=message, at=at, payload=payload)
        case DeliveryEventType.OPENED:
            tracking.message_record_open(message=message, at=at, payload=payload)
        case DeliveryEventType.CLICKED:
            tracking.message_record_click(message=message, url=event.get("url", ""), at=at, payload=payload)
        case DeliveryEventType.BOUNCED:
            tracking.message_record_bounce(
                message=message, bounce_type=event["bounce_type"], reason=reason, at=at, payload=payload
            )
        case DeliveryEventType.FAILED:
            tracking.message_record_failure(message=message, reason=reason, at=at)
        case DeliveryEventType.COMPLAINED:
            # A spam report is the strongest opt-out there is: suppress and count it as an unsubscribe.
            tracking.message_unsubscribe(
                message=message, source="provider", reason=Suppression.Reason.COMPLAINT, at=at, payload=payload
            )
