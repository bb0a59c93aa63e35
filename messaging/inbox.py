"""The in-app inbox: what a contact's app shows (a selector) and its read receipt (a service).

Both are scoped to one organization: another organization's contact or
message is simply not found.
"""

from django.db.models import Case, F, QuerySet, Value, When
from django.utils import timezone

from audiences.models import Contact
from messaging.models import Message, MessageStatus
from shokti.errors import NotFound
from shokti.models import Organization

IN_APP = "in_app"
# Statuses of a message that went out; a queued, skipped or failed one is not in the inbox.
SENT_STATUSES = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.OPENED, MessageStatus.CLICKED)


def inbox_contact(*, organization: Organization, external_id: str) -> Contact:
    contact = Contact.objects.filter(organization=organization, external_id=external_id).first()
    if contact is None:
        raise NotFound(f"User {external_id} not found.", code="USER_NOT_FOUND")
    return contact


def inbox_messages(*, organization: Organization, contact: Contact) -> QuerySet[Message]:
    """The contact's in-app messages that were sent, newest first."""
    return (
        Message.objects.filter(
            organization=organization, contact=contact, channel_type=IN_APP, status__in=SENT_STATUSES
        )
        .select_related("campaign")
        .order_by(F("sent_at").desc(nulls_last=True), "-pk")
    )


def inbox_message_mark_read(*, organization: Organization, external_id: str, message_id: str) -> Message:
    """Marks an inbox message read: opened_at now, and status opened when it was sent or delivered.

    Idempotent: a message already read keeps its first opened_at. One conditional
    UPDATE, so two devices marking it at once cannot both win.
    """
    contact = inbox_contact(organization=organization, external_id=external_id)
    pk = Message.pk_from_public_id(message_id)
    message = inbox_messages(organization=organization, contact=contact).filter(pk=pk).first() if pk else None
    if message is None:
        raise NotFound(f"Message {message_id} not found in this inbox.")
    Message.objects.filter(pk=message.pk, opened_at__isnull=True).update(
        opened_at=timezone.now(),
        status=Case(
            When(status__in=[MessageStatus.SENT, MessageStatus.DELIVERED], then=Value(MessageStatus.OPENED)),
            default=F("status"),
        ),
    )
    message.refresh_from_db(fields=["opened_at", "status"])
    return message
