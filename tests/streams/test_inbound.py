"""Handlers of the subscribed subjects: contact upsert, GDPR erasure, consent, notification status."""

import json

import pytest
from django.utils import timezone

from audiences.models import Contact, Event, Suppression
from campaigns.models import TriggerHistory
from messaging.models import Message
from streams import inbound
from tests.campaigns.triggering import evaluate, event, triggered_campaign
from tests.factories import ContactFactory, MessageFactory

pytestmark = pytest.mark.django_db


def send(subject: str, **body) -> None:
    inbound.handle(subject, json.dumps(body).encode())


def test_user_created_upserts_the_contact(org):
    send("user.created", organization_id=org.slug, user_id="u1", email="u1@example.com", first_name="Rafi")
    send("user.created", organization_id=org.slug, user_id="u1", email="new@example.com")
    contact = Contact.objects.get(organization=org, external_id="u1")
    assert (contact.email, contact.first_name) == ("new@example.com", "Rafi")


def test_user_deleted_erases_personal_data_and_message_addresses(org, other_org):
    contact = ContactFactory(organization=org, external_id="u1", phone="+8801700000000", attributes={"city": "Dhaka"})
    twin = ContactFactory(organization=other_org, external_id="u1")
    message = MessageFactory(organization=org, contact=contact, metadata={"to": contact.email})
    Suppression.objects.create(organization=org, channel_type="email", address=contact.email, reason="unsubscribed")
    triggered_campaign(org)
    evaluate(org, event(contact, event_id="e1", street="12 Road"), now=timezone.now())

    send("user.deleted", organization_id=org.slug, user_id="u1")

    contact.refresh_from_db()
    assert contact.external_id.startswith("erased_")
    assert (contact.email, contact.phone, contact.first_name, contact.attributes) == ("", "", "", {})
    assert contact.consent == {"marketing": False}
    message.refresh_from_db()
    assert (message.recipient_address, message.metadata) == ("", {})
    assert not Event.objects.filter(organization=org).exists()
    assert not TriggerHistory.objects.filter(user_id="u1").exists()
    assert Message.objects.filter(contact=contact).count() == 2  # counts survive, anonymous
    assert Suppression.objects.filter(organization=org).exists()  # still never mailed again
    twin.refresh_from_db()
    assert twin.external_id == "u1" and twin.email


def test_preferences_update_the_consent(org):
    ContactFactory(organization=org, external_id="u1", consent={"marketing": True})
    send("user.preferences.updated", organization_id=org.slug, user_id="u1", consent={"sms": False, "bogus": 1})
    assert Contact.objects.get(external_id="u1").consent == {"marketing": True, "sms": False}


def test_notification_status_updates_the_message(org):
    message = MessageFactory(organization=org, sent=True)
    send("notification.delivered", organization_id=org.slug, message_id=message.public_id,
         occurred_at="2026-01-01T10:00:00Z")  # fmt: skip
    send("notification.delivered", organization_id=org.slug, message_id=message.public_id)
    message.refresh_from_db()
    assert message.status == "delivered" and message.delivery_events.count() == 1


def test_an_unknown_organization_is_dropped(org):
    send("user.created", organization_id="nobody", user_id="u1")
    assert not Contact.objects.exists()
