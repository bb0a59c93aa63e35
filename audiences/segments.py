"""Segment rules: a JSON rule tree over contacts, compiled to one ORM query.

Grammar
-------
`conditions` is a list; its items are ANDed (an empty list is every contact).
Each item is a condition or a group:

    {"field": "attributes.plan", "operator": "eq", "value": "premium"}
    {"all": [item, …]}     also "and": every item holds
    {"any": [item, …]}     also "or": at least one item holds
    {"not": item}           the item does not hold

Operators: eq, ne, gt, gte, lt, lte, in (value is a list), contains
(case-insensitive substring), exists (value true or false, default true),
within_last_days (value is a number of days). Text compares exactly
(attribute text orders by code point, contact columns by the database's
collation); `ne` is always the negation of `eq`, so it also matches contacts
where the value is missing.

Fields
~~~~~~
Contact fields
  external_id, email, phone, first_name, last_name, locale: text
  (eq ne gt gte lt lte in contains exists).
  timezone: text, the organization's when the contact has none (eq ne in contains).
  created_at, last_booking_at: time, an ISO 8601 date or date-time, UTC when
  naive (eq ne gt gte lt lte within_last_days exists). last_booking_at is the
  finish of the last completed booking.

`attributes.<key>` (`attributes.address.city` reads nested objects)
  A number value compares with numbers only, a text value with text only,
  true/false with booleans only; a contact whose attribute has another type,
  or none, does not match (eq ne gt gte lt lte in contains exists).

`consent.<channel>`, channel one of marketing, email, sms, whatsapp, push
  The consent a send would use: marketing is true only when granted, a
  channel is true unless refused (eq ne with true/false; exists asks whether
  the contact stated it at all).

Bookings: completed bookings only. Optional keys narrow them:
`window_days` (finished within the last N days), and for the aggregate fields
`service_id` and `category`.
  bookings.count: how many (eq ne gt gte lt lte, whole number)
  bookings.total_spent: sum of their prices (eq ne gt gte lt lte)
  bookings.last_completed_at: when the last one finished
  (eq ne gt gte lt lte within_last_days exists)
  bookings.service_id: has one of that service (eq ne in; ne: has none)
  bookings.category: has one in that service category (eq ne in; ne: has none)

Events: optional `event_type` and `window_days` (occurred within the last N days).
  events.count: how many (eq ne gt gte lt lte, whole number)
  events.last_occurred_at: when the last one occurred
  (eq ne gt gte lt lte within_last_days exists)

    {"field": "events.count", "event_type": "app_open", "window_days": 30,
     "operator": "gte", "value": 3}

Every condition is true or false for every contact (never unknown), so `not`
is exact. The whole tree is one SQL statement, shaped as joins
(audiences.segment_compiler explains how).
"""

import operator as op
from collections.abc import Sequence
from functools import reduce
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from audiences.models import Contact, Segment
from audiences.segment_compiler import SegmentCompiler
from audiences.segment_rules import parse_conditions
from shokti.models import Organization


def validate_conditions(conditions: Any, *, loc: Sequence = ("body", "conditions")) -> None:
    """Raises ApplicationError (400 INVALID_REQUEST) whose details locate each bad node under `loc`."""
    parse_conditions(conditions, loc=loc)


def contacts_matching(*, organization: Organization | int, conditions: Any) -> QuerySet[Contact]:
    """The organization's contacts that satisfy `conditions`, as one lazy queryset (one SQL statement).

    Raises ApplicationError (400 INVALID_REQUEST) when the conditions are invalid.
    """
    tree = parse_conditions(conditions)
    return SegmentCompiler(organization=organization, now=timezone.now()).queryset(tree)


def segment_contacts(segment: Segment) -> QuerySet[Contact]:
    """The contacts a saved segment holds right now."""
    return contacts_matching(organization=segment.organization_id, conditions=segment.conditions)


def json_conditions_q(column: str, conditions: Any, *, loc: Sequence = ("body", "conditions")) -> Q:
    """ANDed `<name>.<key>` conditions over any JSON column (an event's properties), with attributes' semantics.

    Each condition is validated as `attributes.<key>` would be, so the operators
    and the type rules are the segments' own; a bad one raises ApplicationError.
    """
    renamed = [
        {**item, "field": "attributes." + str(item.get("field", "")).partition(".")[2]}
        if isinstance(item, dict)
        else item
        for item in conditions
    ]
    tree = parse_conditions(renamed, loc=loc)
    compiler = SegmentCompiler(organization=None, now=timezone.now())
    return reduce(op.and_, (compiler.attribute(node, column).q for node in tree.children), Q())
