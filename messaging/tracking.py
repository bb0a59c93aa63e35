"""What opens, clicks, unsubscribes and provider reports do to a message row.

Each change is a conditional UPDATE, never a read-modify-write: the status
moves only forward (sent → delivered → opened → clicked) and never out of an
end state (bounced, failed, skipped, unsubscribed); each timestamp is set once,
so of two concurrent requests only one records the event and sends its signal.
A row the dispatcher has not yet marked sent is left alone, so that its claimed
update (sending → sent) stays the only way out of `sending`.
"""

import logging
from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from audiences.models import Suppression
from messaging import signals
from messaging.models import BounceType, Message, MessageStatus

logger = logging.getLogger(__name__)

S = MessageStatus
# A message that reached the provider: events about it may set their timestamp.
_WENT_OUT = (S.SENT, S.DELIVERED, S.OPENED, S.CLICKED, S.UNSUBSCRIBED)
_ENGAGED = (S.SENT, S.DELIVERED, S.OPENED, S.CLICKED)

# Where a contact is reached on a channel when the row has no recipient address.
_CONTACT_ADDRESS_FIELD = {"email": "email", "sms": "phone", "whatsapp": "phone"}


def message_address(message: Message) -> str:
    """The address a message went to, normalized as suppressions store it."""
    address = message.recipient_address or getattr(
        message.contact, _CONTACT_ADDRESS_FIELD.get(message.channel_type, "external_id")
    )
    address = address.strip()
    return address.lower() if message.channel_type == "email" else address


def suppression_add_for_message(*, message: Message, reason: str, source: str) -> bool:
    """Suppresses the message's address on its channel for its whole organization; True when newly added."""
    _, created = Suppression.objects.get_or_create(
        organization_id=message.organization_id,
        channel_type=message.channel_type,
        address=message_address(message),
        defaults={"reason": reason, "source": source, "campaign_public_id": message.campaign.public_id},
    )
    return created


def message_record_delivered(*, message: Message, at: datetime, payload: dict | None = None) -> bool:
    """Records that the provider delivered the message; True when this call recorded it."""
    return _advance(
        message,
        stamp="delivered_at",
        at=at,
        to=S.DELIVERED,
        moves_from=(S.SENT,),
        event_type=signals.DELIVERED,
        payload=payload,
    )


def message_record_open(*, message: Message, at: datetime | None = None, payload: dict | None = None) -> bool:
    """Records the first open of the message; True when this call recorded it. Later opens are only signalled."""
    at = at or timezone.now()
    recorded = _advance(
        message,
        stamp="opened_at",
        at=at,
        to=S.OPENED,
        moves_from=(S.SENT, S.DELIVERED),
        event_type=signals.OPENED,
        payload=payload,
    )
    if not recorded and message.opened_at is not None:
        _emit_again(signals.OPENED, message, at)
    return recorded


def message_record_click(
    *, message: Message, url: str, at: datetime | None = None, payload: dict | None = None
) -> bool:
    """Records the first click in the message, and the open it implies; True when this call recorded the click."""
    at = at or timezone.now()
    # Most clients block images, so a click is often the only sign of an open.
    message_record_open(message=message, at=at, payload=payload)
    recorded = _advance(
        message,
        stamp="clicked_at",
        at=at,
        to=S.CLICKED,
        moves_from=(S.SENT, S.DELIVERED, S.OPENED),
        event_type=signals.CLICKED,
        payload={**(payload or {}), "url": url},
    )
    if not recorded and message.clicked_at is not None:
        _emit_again(signals.CLICKED, message, at)
    return recorded


@transaction.atomic
def message_record_bounce(
    *, message: Message, bounce_type: str, reason: str = "", at: datetime, payload: dict | None = None
) -> bool:
    """Marks a sent or delivered message bounced; a hard bounce also suppresses its address."""
    if bounce_type == BounceType.HARD:
        suppression_add_for_message(message=message, reason=Suppression.Reason.HARD_BOUNCE, source="provider")
    return _advance(
        message,
        stamp="bounced_at",
        at=at,
        to=S.BOUNCED,
        moves_from=(S.SENT, S.DELIVERED),
        eligible=(S.SENT, S.DELIVERED),
        bounce_type=bounce_type,
        error_message=reason,
        event_type=signals.BOUNCED,
        payload={**(payload or {}), "bounce_type": bounce_type, "reason": reason},
    )


def message_record_failure(*, message: Message, reason: str = "", at: datetime) -> bool:
    """Marks a sent message failed when the provider gives up on it after accepting it."""
    return _advance(
        message,
        stamp="failed_at",
        at=at,
        to=S.FAILED,
        moves_from=(S.SENT,),
        eligible=(S.SENT,),
        error_message=reason,
    )


@transaction.atomic
def message_unsubscribe(
    *,
    message: Message,
    source: str,
    reason: str = Suppression.Reason.UNSUBSCRIBED,
    at: datetime | None = None,
    payload: dict | None = None,
) -> bool:
    """Suppresses the message's address on its channel for the organization and marks the message unsubscribed.

    Idempotent: a second request finds the suppression and the timestamp in
    place. `reason` is `complaint` for a spam report. True when this call marked
    the message.
    """
    suppression_add_for_message(message=message, reason=reason, source=source)
    return _advance(
        message,
        stamp="unsubscribed_at",
        at=at or timezone.now(),
        to=S.UNSUBSCRIBED,
        moves_from=_ENGAGED,
        event_type=signals.UNSUBSCRIBED,
        payload={**(payload or {}), "source": source, "reason": reason},
    )


def _advance(
    message: Message,
    *,
    stamp: str,
    at: datetime,
    to: str,
    moves_from: tuple,
    eligible: tuple = _WENT_OUT,
    event_type: str = "",
    payload: dict | None = None,
    **fields,
) -> bool:
    """Sets `stamp` once on an eligible row and moves its status to `to` when it is in `moves_from`."""
    changed = Message.objects.filter(pk=message.pk, status__in=eligible, **{f"{stamp}__isnull": True}).update(
        status=Case(When(status__in=moves_from, then=Value(to)), default=F("status")), **{stamp: at}, **fields
    )
    if changed:
        message.refresh_from_db()
        if event_type:
            _emit(event_type, message, {"occurred_at": _iso(at), **(payload or {})})
    return bool(changed)


def _emit(event_type: str, message: Message, payload: dict) -> None:
    def send() -> None:
        # A failing receiver (a counter) must not turn a recorded click into an error for the recipient.
        for receiver, result in signals.message_event.send_robust(
            sender=Message, event_type=event_type, message=message, payload=payload
        ):
            if isinstance(result, Exception):
                logger.error("message_event receiver %r failed", receiver, exc_info=result)

    transaction.on_commit(send)


def _emit_again(event_type: str, message: Message, at: datetime) -> None:
    def send() -> None:
        for receiver, result in signals.message_engaged_again.send_robust(
            sender=Message, event_type=event_type, message=message, at=at
        ):
            if isinstance(result, Exception):
                logger.error("message_engaged_again receiver %r failed", receiver, exc_info=result)

    transaction.on_commit(send)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")
