"""The publisher and the consumer against the machine's real NATS server with JetStream (skipped when down)."""

import asyncio
import json
import socket
import uuid

import nats as nats_client
import pytest
from django.core.management import call_command

from audiences.models import Contact
from campaigns import lifecycle
from streams import nats, outbox
from streams.models import OutboxEvent
from tests.campaigns.triggering import triggered_campaign
from tests.factories import ContactFactory

NATS_URL = "nats://127.0.0.1:4222"


def _reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 4222), timeout=0.5).close()
    except OSError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _reachable(), reason="no NATS server on 127.0.0.1:4222")


@pytest.fixture
def nats_settings(settings):
    settings.NATS_URL = NATS_URL
    settings.NATS_DURABLE = f"test-{uuid.uuid4().hex[:8]}"
    return settings


async def _with_js(work):
    connection = await nats_client.connect(NATS_URL)
    try:
        return await work(connection.jetstream())
    finally:
        await connection.close()


def js(work):
    return asyncio.run(_with_js(work))


@pytest.mark.django_db
def test_the_outbox_is_published_once_per_event_to_its_subject(org, nats_settings):
    campaign, _ = triggered_campaign(org)
    lifecycle.campaign_pause(campaign, actor="tester")
    event = OutboxEvent.objects.get()
    assert outbox.outbox_publish() == 1
    assert outbox.outbox_publish() == 0

    async def last(jetstream):
        stream = await jetstream.find_stream_name_by_subject("campaign.paused")
        return await jetstream.get_last_msg(stream, "campaign.paused")

    message = js(last)
    body = json.loads(message.data)
    assert body["id"] == event.public_id and body["data"]["campaign_id"] == campaign.public_id
    assert message.headers["Nats-Msg-Id"] == event.public_id

    # A re-publish after a crash (same message id) is dropped by JetStream's duplicate window.
    async def republish(jetstream):
        return await jetstream.publish("campaign.paused", message.data, headers={"Nats-Msg-Id": event.public_id})

    assert js(republish).duplicate is True


@pytest.mark.django_db(transaction=True)
def test_consume_events_applies_the_subscribed_subjects(org, nats_settings):
    ContactFactory(organization=org, external_id="gone", email="gone@example.com")

    async def publish(jetstream):
        await nats._ensure_stream(jetstream, nats_settings.NATS_CONSUME_STREAM, nats.SUBSCRIBED_SUBJECTS)
        await jetstream.purge_stream(await jetstream.find_stream_name_by_subject("user.created"))
        for subject, body in [
            ("user.created", {"organization_id": org.slug, "user_id": "fresh", "email": "fresh@example.com"}),
            ("user.preferences.updated", {"organization_id": org.slug, "user_id": "fresh", "consent": {"sms": False}}),
            ("user.deleted", {"organization_id": org.slug, "user_id": "gone"}),
        ]:
            await jetstream.publish(subject, json.dumps(body).encode())

    js(publish)
    call_command("consume_events", "--once")

    fresh = Contact.objects.get(organization=org, external_id="fresh")
    assert fresh.email == "fresh@example.com" and fresh.consent["sms"] is False
    assert not Contact.objects.filter(external_id="gone").exists()
    assert Contact.objects.filter(external_id__startswith="erased_").get().email == ""
