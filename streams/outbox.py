"""The outbox: domain events written with the change, relayed at least once to webhooks and NATS JetStream.

`on_domain_event` runs inside the transaction of the lifecycle change, so the
row exists if and only if the change committed. `on_message_event` is sent
after the message's own commit (messaging.signals), so it writes in its own.
The relay (a beat task every few seconds) claims unrelayed rows with
`FOR UPDATE SKIP LOCKED` on PostgreSQL, fans each out to the matching
subscriptions as WebhookDelivery rows (unique per subscription and event),
and publishes it to JetStream with `Nats-Msg-Id` set to the event id, so a
re-publish after a crash is dropped by the server's duplicate window.
"""

import json
import logging
import time
from datetime import datetime, timedelta

import httpx2
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from shokti import http
from shokti.models import Organization
from streams import nats
from streams.models import DeliveryStatus, OutboxEvent, WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)

RELAY_BATCH = 500
DELIVERY_BATCH = 100
MAX_DELIVERY_ATTEMPTS = 10
# A subscription failing this many deliveries in a row is disabled until its owner re-enables it.
DISABLE_AFTER_FAILURES = 20
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


def on_domain_event(sender, *, event_type: str, campaign, payload: dict, **kwargs) -> None:
    """domain_event receiver: one outbox row, in the caller's transaction."""
    OutboxEvent.objects.create(organization_id=campaign.organization_id, event_type=event_type, payload=payload)


def on_message_event(sender, *, event_type: str, message, payload: dict, **kwargs) -> None:
    """message_event receiver: seed 004's campaign.message.* events."""
    body = {"campaign_id": message.campaign.public_id, "message_id": message.public_id,
            "user_id": message.contact.external_id, "channel": message.channel_type, **payload}  # fmt: skip
    OutboxEvent.objects.create(organization_id=message.organization_id, event_type=event_type, payload=body)


def outbox_event_record(*, organization: Organization, event_type: str, payload: dict) -> OutboxEvent:
    """Writes one domain event to the outbox (for events not sent through a signal)."""
    return OutboxEvent.objects.create(organization=organization, event_type=event_type, payload=payload)


def _claim(queryset, limit: int) -> list[OutboxEvent]:
    rows = queryset.order_by("id")[:limit]
    if connection.vendor == "postgresql":
        rows = rows.select_for_update(skip_locked=True)
    return list(rows)


def outbox_relay(*, now: datetime | None = None) -> int:
    """Fans unrelayed events out to their subscriptions' delivery rows; returns how many events."""
    now = now or timezone.now()
    with transaction.atomic():
        events = _claim(OutboxEvent.objects.filter(relayed_at__isnull=True), RELAY_BATCH)
        if not events:
            return 0
        subscriptions = list(
            WebhookSubscription.objects.filter(is_active=True, organization__in={e.organization_id for e in events})
        )
        deliveries = [
            WebhookDelivery(subscription=subscription, event=event, next_attempt_at=now)
            for event in events
            for subscription in subscriptions
            if subscription.organization_id == event.organization_id and subscription.wants(event.event_type)
        ]
        WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(relayed_at=now)
    return len(events)


def outbox_publish(*, now: datetime | None = None) -> int:
    """Publishes unpublished events to NATS JetStream when NATS_URL is set; returns how many."""
    if not nats.configured():
        return 0
    now = now or timezone.now()
    with transaction.atomic():
        events = _claim(OutboxEvent.objects.filter(published_at__isnull=True), RELAY_BATCH)
        if not events:
            return 0
        # Published before the commit: a crash in between re-publishes, and JetStream drops the duplicate.
        nats.publish_all([(e.event_type, e.public_id, json.dumps(e.envelope()).encode()) for e in events])
        OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(published_at=now)
    return len(events)


def webhook_deliveries_send(*, now: datetime | None = None) -> dict[str, int]:
    """Sends due deliveries once each; failures back off exponentially, then give up."""
    now = now or timezone.now()
    with transaction.atomic():
        due = WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now, subscription__is_active=True
        )
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True, of=("self",))
        deliveries = list(due.select_related("subscription", "event").order_by("next_attempt_at")[:DELIVERY_BATCH])
        counts = {"delivered": 0, "failed": 0}
        for delivery in deliveries:
            ok = _attempt(delivery, now)
            counts["delivered" if ok else "failed"] += 1
    return counts


def _attempt(delivery: WebhookDelivery, now: datetime) -> bool:
    subscription = delivery.subscription
    body = json.dumps(delivery.event.envelope(), separators=(",", ":")).encode()
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Shokti-Signature": http.sign_payload(body, subscription.secret, stamp),
        "X-Shokti-Timestamp": str(stamp),
        "X-Shokti-Event": delivery.event.event_type,
        "Idempotency-Key": delivery.event.public_id,
    }
    delivery.attempts += 1
    try:
        response = http.request("POST", subscription.url, content=body, headers=headers)
        delivery.last_status_code, delivery.last_error = response.status_code, ""
        ok = 200 <= response.status_code < 300
        if not ok:
            delivery.last_error = response.text[:500]
    except (httpx2.HTTPError, httpx2.InvalidURL) as error:
        delivery.last_status_code, delivery.last_error, ok = None, str(error)[:500], False

    if ok:
        delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        WebhookSubscription.objects.filter(pk=subscription.pk).update(consecutive_failures=0)
    else:
        wait = min(FIRST_RETRY * 2 ** (delivery.attempts - 1), LONGEST_RETRY)
        delivery.next_attempt_at = now + wait
        if delivery.attempts >= MAX_DELIVERY_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
        WebhookSubscription.objects.filter(
            pk=subscription.pk, is_active=True, consecutive_failures__gte=DISABLE_AFTER_FAILURES
        ).update(is_active=False, disabled_at=now)
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "last_status_code", "last_error",
                                 "delivered_at", "updated_at"])  # fmt: skip
    return ok
