"""Conversions: events of a campaign's `conversion_event_type` credited to the messages that preceded them.

A touch is a message of the campaign to the event's contact within
`attribution_window_days` before the event: one that went out (its
`sent_at`), or, for contacts who were measured without a message, a holdout or
control row (its `queued_at`). Conversions of those unmessaged contacts are
stored with `is_holdout` so lift over holdout can be reported; a holdout row's
conversion carries no variant, so that a control arm keeps only its own.

How events reach here: a periodic task (`analytics.tasks.attribute_new_events`,
every minute) reads the events table past a cursor, so it needs nothing from
whichever code stores events (an endpoint, an import, a bulk_create that sends
no post_save). Code that wants a conversion counted at once may call
`conversions_record_for_events(events)` right after storing them: both paths
take the same lock and skip what is already attributed, so an event is never
counted twice.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from analytics.aggregation import conversions_counted
from analytics.models import AttributionCursor, Conversion
from audiences.models import Event
from campaigns.models import AttributionModel, Campaign
from messaging.models import Message, MessageStatus, SkipReason

WEIGHT_PLACES = Decimal("0.000001")
CENTS = Decimal("0.01")
EVENTS_PER_RUN = 5000
# Events committed out of primary-key order by concurrent requests get this long to land before the cursor passes.
SETTLING = timedelta(seconds=10)


def attribution_weights(count: int, model: str) -> list[Decimal]:
    """Weights for `count` touches ordered oldest first; they always sum to exactly 1."""
    if model == AttributionModel.FIRST_TOUCH:
        return [Decimal(1)] + [Decimal(0)] * (count - 1)
    if model == AttributionModel.LAST_TOUCH:
        return [Decimal(0)] * (count - 1) + [Decimal(1)]
    share = (Decimal(1) / count).quantize(WEIGHT_PLACES, rounding=ROUND_DOWN)
    # Rounding leaves a few millionths over; the latest touch takes them so the sum stays 1.
    return [share] * (count - 1) + [Decimal(1) - share * (count - 1)]


def event_value(event: Event) -> Decimal:
    """The conversion's value: the event's `value` property (seed 004's conversion_value), else 0."""
    raw = (event.properties or {}).get("value", 0)
    try:
        return Decimal(str(raw)).quantize(CENTS)
    except (InvalidOperation, ValueError):
        return Decimal(0)


def _lock() -> AttributionCursor:
    cursor, _ = AttributionCursor.objects.select_for_update().get_or_create(pk=1)
    return cursor


@transaction.atomic
def conversions_record_for_events(events: Iterable[Event]) -> list[Conversion]:
    """Attributes stored events to the campaigns they convert for; returns the conversions it created.

    Idempotent: events already attributed to a campaign are skipped, under a
    lock shared with the periodic task.
    """
    _lock()
    events = [e for e in events if e.contact_id is not None]
    if not events:
        return []
    campaigns = Campaign.objects.alive().filter(
        organization_id__in={e.organization_id for e in events},
        conversion_event_type__in={e.event_type for e in events},
    )
    created: list[Conversion] = []
    for campaign in campaigns:
        mine = [e for e in events if e.organization_id == campaign.organization_id
                and e.event_type == campaign.conversion_event_type]  # fmt: skip
        created += _attribute(campaign, mine)
    Conversion.objects.bulk_create(created)
    conversions_counted(created)
    return created


def _attribute(campaign: Campaign, events: list[Event]) -> list[Conversion]:
    done = set(Conversion.objects.filter(campaign=campaign, event__in=events).values_list("event_id", flat=True))
    events = [e for e in events if e.pk not in done]
    if not events:
        return []
    window = timedelta(days=campaign.attribution_window_days)
    unmessaged = Q(status=MessageStatus.SKIPPED, skip_reason__in=[SkipReason.HOLDOUT, SkipReason.CONTROL])
    touches_by_contact = defaultdict(list)
    rows = Message.objects.filter(campaign=campaign, contact_id__in={e.contact_id for e in events}).filter(
        Q(sent_at__isnull=False) | unmessaged
    )
    for m in rows.only("pk", "contact_id", "execution_id", "variant_id", "channel_type", "sent_at", "queued_at",
                       "skip_reason", "organization_id"):  # fmt: skip
        touches_by_contact[m.contact_id].append(m)

    conversions = []
    for event in events:

        def in_window(at, event=event):
            return event.occurred_at - window <= at <= event.occurred_at

        touches = touches_by_contact.get(event.contact_id, [])
        sent = sorted((m for m in touches if m.sent_at and in_window(m.sent_at)), key=lambda m: (m.sent_at, m.pk))
        value = event_value(event)
        if sent:
            weights = attribution_weights(len(sent), campaign.attribution_model)
            credited = [(m, w) for m, w in zip(sent, weights, strict=True) if w]
            values = [(value * w).quantize(CENTS, rounding=ROUND_DOWN) for _, w in credited]
            values[-1] += value - sum(values)
            conversions += [
                _conversion(campaign, event, m, w, v, is_holdout=False)
                for (m, w), v in zip(credited, values, strict=True)
            ]
            continue
        held = sorted((m for m in touches if not m.sent_at and in_window(m.queued_at)), key=lambda m: m.queued_at)
        if held:
            conversions.append(_conversion(campaign, event, held[-1], Decimal(1), value, is_holdout=True))
    return conversions


def _conversion(campaign, event, message, weight, value, *, is_holdout) -> Conversion:
    variant_key = 0 if message.skip_reason == SkipReason.HOLDOUT else (message.variant_id or 0)
    return Conversion(
        organization_id=campaign.organization_id, campaign=campaign, execution_id=message.execution_id,
        message=message, contact_id=event.contact_id, event=event, event_type=event.event_type,
        variant_key=variant_key, channel_type=message.channel_type, attribution_model=campaign.attribution_model,
        weight=weight, value=value, is_holdout=is_holdout, converted_at=event.occurred_at,
    )  # fmt: skip


@transaction.atomic
def conversions_attribute_new_events(*, limit: int = EVENTS_PER_RUN) -> int:
    """Attributes events stored since the last run; returns how many conversions it created."""
    cursor = _lock()
    top = Event.objects.filter(pk__gt=cursor.last_event_pk, received_at__lt=timezone.now() - SETTLING).aggregate(
        top=Max("pk")
    )["top"]
    if top is None:
        return 0
    types = set(Campaign.objects.alive().exclude(conversion_event_type="").values_list("conversion_event_type",
                                                                                       flat=True))  # fmt: skip
    events = list(
        Event.objects.filter(
            pk__gt=cursor.last_event_pk, pk__lte=top, event_type__in=types, contact__isnull=False
        ).order_by("pk")[:limit]
    )
    created = conversions_record_for_events(events)
    cursor.last_event_pk = events[-1].pk if len(events) == limit else top
    cursor.save(update_fields=["last_event_pk", "updated_at"])
    return len(created)
