"""Domain events about messages, for the apps above messaging (counters, analytics) to count.

`message_event` is sent with `sender=Message`, `event_type` (one of EVENT_TYPES),
`message` (the row, as recorded) and `payload` (a dict: `occurred_at` and what
the event carries, such as `url`, `bounce_type`, `source`). It is sent once per
message and event type, when the row first records the event, and only after
the transaction that recorded it commits, so a receiver can count without
deduplicating.
"""

from django.dispatch import Signal

DELIVERED = "campaign.message.delivered"
OPENED = "campaign.message.opened"
CLICKED = "campaign.message.clicked"
BOUNCED = "campaign.message.bounced"
UNSUBSCRIBED = "campaign.message.unsubscribed"

EVENT_TYPES = frozenset({DELIVERED, OPENED, CLICKED, BOUNCED, UNSUBSCRIBED})

message_event = Signal()

# Opens and clicks after the first: `message_event` is sent once per message and
# type, so counters of total (not unique) opens and clicks need this one. Sent
# after commit with `event_type` (OPENED or CLICKED), `message` and `at`.
message_engaged_again = Signal()
