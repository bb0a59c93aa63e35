"""Handlers of the subjects Shokti subscribes to (seed 004, "Events Subscribed").

Payloads name the organization by slug (`organization_id`, as the published
events do) and the person by `user_id`, the contact's external id.
"""

import json
import logging
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audiences.models import Contact, Event
from campaigns.models import TriggerHistory
from messaging.delivery import delivery_events_record
from messaging.models import DeliveryEventType, Message
from shokti.models import Organization

logger = logging.getLogger(__name__)

PROFILE_FIELDS = ("email", "phone", "first_name", "last_name", "locale", "timezone")
CONSENT_KEYS = frozenset({"marketing", "email", "sms", "whatsapp", "push"})
NOTIFICATION_TYPES = {
    "notification.delivered": DeliveryEventType.DELIVERED,
    "notification.failed": DeliveryEventType.FAILED,
    "notification.opened": DeliveryEventType.OPENED,
    "notification.clicked": DeliveryEventType.CLICKED,
}


def handle(subject: str, data: bytes) -> None:
    """Applies one message; unknown organizations and subjects are logged and dropped, not retried forever."""
    body = json.loads(data)
    organization = Organization.objects.filter(slug=body.get("organization_id")).first()
    if organization is None:
        logger.warning("Dropped %s for unknown organization %r", subject, body.get("organization_id"))
        return
    if subject == "user.created":
        contact_upsert(organization=organization, data=body)
    elif subject == "user.deleted":
        contact_erase(organization=organization, user_id=str(body["user_id"]))
    elif subject == "user.preferences.updated":
        contact_consent_update(organization=organization, user_id=str(body["user_id"]), consent=body.get("consent", {}))
    elif subject in NOTIFICATION_TYPES:
        occurred = parse_datetime(str(body.get("occurred_at", ""))) or timezone.now()
        event = {"event_id": str(body.get("notification_event_id") or f"{subject}:{body['message_id']}"),
                 "message_id": str(body["message_id"]), "event_type": NOTIFICATION_TYPES[subject],
                 "occurred_at": occurred, "reason": str(body.get("reason", "")), "url": str(body.get("url", ""))}  # fmt: skip
        delivery_events_record(organization=organization, events=[event])
    else:
        logger.info("No handler for %s", subject)


def contact_upsert(*, organization: Organization, data: dict) -> Contact:
    """user.created: the contact with the profile fields the account service sent."""
    fields = {key: str(data[key]) for key in PROFILE_FIELDS if data.get(key) is not None}
    if isinstance(data.get("attributes"), dict):
        fields["attributes"] = data["attributes"]
    contact, _ = Contact.objects.update_or_create(
        organization=organization, external_id=str(data["user_id"]), defaults=fields
    )
    return contact


def contact_consent_update(*, organization: Organization, user_id: str, consent: dict) -> int:
    """user.preferences.updated: merges the stated consents (true or false) into the contact's."""
    stated = {key: value for key, value in consent.items() if key in CONSENT_KEYS and isinstance(value, bool)}
    with transaction.atomic():
        contact = Contact.objects.select_for_update().filter(organization=organization, external_id=user_id).first()
        if contact is None or not stated:
            return 0
        contact.consent = {**(contact.consent or {}), **stated}
        contact.save(update_fields=["consent", "updated_at"])
    return 1


@transaction.atomic
def contact_erase(*, organization: Organization, user_id: str) -> bool:
    """user.deleted (GDPR erasure): removes the person's data and keeps only anonymous counts.

    The contact row stays, emptied, so messages and counters keep adding up;
    its external id is replaced so later events for that user id match nobody.
    Events (whose properties are the person's) are deleted; messages lose
    their recipient address and metadata; trigger history its user id.
    Suppressions stay: they are what keeps the address from being mailed
    again if it comes back, which the erasure request itself relies on.
    """
    contact = Contact.objects.select_for_update().filter(organization=organization, external_id=user_id).first()
    if contact is None:
        return False
    erased = f"erased_{uuid.uuid4().hex}"
    Event.objects.filter(organization=organization, contact=contact).delete()
    Event.objects.filter(organization=organization, user_id=user_id).delete()
    Message.objects.filter(contact=contact).update(recipient_address="", metadata={})
    TriggerHistory.objects.filter(organization=organization, user_id=user_id).update(user_id=erased)
    Contact.objects.filter(pk=contact.pk).update(
        external_id=erased, email="", phone="", first_name="", last_name="", attributes={},
        consent={"marketing": False}, last_booking_at=None, updated_at=timezone.now(),
    )  # fmt: skip
    return True
