"""Seed 004's domain events ("Events Published"), sent as a Django signal.

Receivers run inside the transaction that made the change, so a receiver
that writes an outbox row commits or rolls back with it.
"""

from django.dispatch import Signal

# Sent with: event_type (e.g. "campaign.paused"), campaign, payload (dict).
domain_event = Signal()


def emit(event_type: str, campaign, **payload) -> None:
    body = {"campaign_id": campaign.public_id, "organization_id": campaign.organization.slug, **payload}
    domain_event.send(sender=type(campaign), event_type=event_type, campaign=campaign, payload=body)
