"""Seed 004's domain events ("Events Published"), sent as a Django signal.

Receivers run inside the transaction that made the change, so a receiver
that writes an outbox row commits or rolls back with it.
"""

from django.dispatch import Signal

# Sent with: event_type (e.g. "campaign.paused"), campaign, payload (dict).
domain_event = Signal()

# Sent once per recorded dispatch batch, after its transaction commits, so that
# counters grow by one set-based increment per batch instead of one per message.
# Arguments: `at` (the sent_at/failed_at/bounced_at stamped on the rows) and
# `counts`, a list of {"campaign_id", "execution_id", "variant_id",
# "channel_type", "status", "count"} with status one of sent, failed, bounced.
batch_recorded = Signal()

# Sent once an execution's rows are resolved and policy has marked the skipped
# ones, after commit, with `execution`: counters of skips are taken from there.
execution_resolved = Signal()


def emit(event_type: str, campaign, **payload) -> None:
    body = {"campaign_id": campaign.public_id, "organization_id": campaign.organization.slug, **payload}
    domain_event.send(sender=type(campaign), event_type=event_type, campaign=campaign, payload=body)
