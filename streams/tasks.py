"""Celery tasks of the event stream: thin wrappers over streams.outbox."""

from celery import shared_task

from streams import outbox


@shared_task(expires=9)
def outbox_pump() -> dict:
    """Every few seconds (beat): relay new domain events, publish them to NATS, send due webhook deliveries."""
    return {
        "relayed": outbox.outbox_relay(),
        "published": outbox.outbox_publish(),
        **outbox.webhook_deliveries_send(),
    }
