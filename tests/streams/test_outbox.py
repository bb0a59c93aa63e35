"""The outbox: written with the change, delivered to a webhook subscriber at least once, with backoff."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from campaigns import lifecycle
from shokti.http import verify_signature
from streams import outbox
from streams.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from tests.campaigns.triggering import triggered_campaign
from tests.servers import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _single_attempt(settings):
    # Retries over time belong to the outbox here, not to one HTTP call.
    settings.SHOKTI_HTTP_MAX_ATTEMPTS = 1


def subscribe(org, url, **fields) -> WebhookSubscription:
    return WebhookSubscription.objects.create(organization=org, url=url, **fields)


def test_a_domain_event_is_written_in_the_transaction_of_the_change(org):
    campaign, _ = triggered_campaign(org)
    with pytest.raises(RuntimeError), transaction.atomic():
        lifecycle.campaign_pause(campaign, actor="tester")
        assert OutboxEvent.objects.filter(event_type="campaign.paused").exists()
        raise RuntimeError("roll back")
    assert not OutboxEvent.objects.exists()
    lifecycle.campaign_pause(campaign, actor="tester")
    event = OutboxEvent.objects.get()
    assert (event.event_type, event.payload["campaign_id"]) == ("campaign.paused", campaign.public_id)


def test_the_outbox_reaches_a_subscriber_after_it_comes_back(org, http_server):
    http_server.script("/hook", Reply(500), Reply(503), Reply(200))
    subscription = subscribe(org, f"{http_server.url}/hook", event_types=["campaign.*"])
    campaign, _ = triggered_campaign(org)
    lifecycle.campaign_pause(campaign, actor="tester")
    now = timezone.now()

    assert outbox.outbox_relay(now=now) == 1
    assert outbox.webhook_deliveries_send(now=now) == {"delivered": 0, "failed": 1}
    assert outbox.webhook_deliveries_send(now=now + timedelta(seconds=10)) == {"delivered": 0, "failed": 0}
    assert outbox.webhook_deliveries_send(now=now + timedelta(seconds=31))["failed"] == 1
    assert outbox.webhook_deliveries_send(now=now + timedelta(seconds=92))["delivered"] == 1

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    requests = http_server.requests_to("/hook")
    assert len(requests) == 3
    last = requests[-1]
    assert verify_signature(last.body, last.headers["x-shokti-signature"], subscription.secret)
    body = json.loads(last.body)
    assert body["type"] == "campaign.paused" and body["data"]["campaign_id"] == campaign.public_id
    assert len({r.headers["idempotency-key"] for r in requests}) == 1
    subscription.refresh_from_db()
    assert subscription.consecutive_failures == 0


def test_a_subscription_failing_again_and_again_is_disabled(org, http_server, monkeypatch):
    monkeypatch.setattr(outbox, "DISABLE_AFTER_FAILURES", 2)
    http_server.script("/down", Reply(500))
    subscription = subscribe(org, f"{http_server.url}/down")
    campaign, _ = triggered_campaign(org)
    lifecycle.campaign_pause(campaign, actor="tester")
    lifecycle.campaign_resume(campaign, actor="tester")
    outbox.outbox_relay()
    outbox.webhook_deliveries_send()
    subscription.refresh_from_db()
    assert not subscription.is_active and subscription.disabled_at is not None
    assert WebhookDelivery.objects.filter(status="pending").count() == 2


def test_subscriptions_get_only_their_event_types_and_organization(org, other_org, http_server):
    subscribe(org, f"{http_server.url}/a", event_types=["campaign.resumed"])
    subscribe(other_org, f"{http_server.url}/b")
    campaign, _ = triggered_campaign(org)
    lifecycle.campaign_pause(campaign, actor="tester")
    lifecycle.campaign_resume(campaign, actor="tester")
    outbox.outbox_relay()
    assert list(WebhookDelivery.objects.values_list("event__event_type", flat=True)) == ["campaign.resumed"]
