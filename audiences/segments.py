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
within_last_days (value is a number of days). Text compares exactly and by
code point; `ne` is always the negation of `eq`, so it also matches contacts
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
is exact. Booking and event conditions are correlated EXISTS or aggregate
subqueries on the contact: the whole tree is one SQL statement.
"""

import operator as op
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import reduce
from typing import Any

from django.db.models import Exists, F, FloatField, Func, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.db.models.lookups import Exact, GreaterThan, GreaterThanOrEqual, IContains, In, LessThan, LessThanOrEqual
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from audiences.expressions import JSONNumber, JSONText, JSONType
from audiences.models import Booking, Contact, Event, Segment, Service
from audiences.validators import CONSENT_CHANNELS
from shokti.errors import ApplicationError, validation_message
from shokti.models import Organization

MAX_DEPTH = 8
MAX_NODES = 200
MAX_IN_VALUES = 1000
MAX_DAYS = 36_500

COMPARISONS = ("eq", "ne", "gt", "gte", "lt", "lte")
TEXT_FIELDS = ("external_id", "email", "phone", "first_name", "last_name", "locale")
TIME_FIELDS = ("created_at", "last_booking_at")
GROUP_KEYS = {"all": "all", "and": "all", "any": "any", "or": "any", "not": "not"}


@dataclass(frozen=True)
class _Spec:
    kind: str
    operators: tuple[str, ...]
    options: tuple[str, ...] = ()


_TEXT_OPERATORS = (*COMPARISONS, "in", "contains", "exists")
_TIME_OPERATORS = (*COMPARISONS, "within_last_days", "exists")
_MEMBER_OPERATORS = ("eq", "ne", "in")

FIELDS: dict[str, _Spec] = {
    **{name: _Spec("text", _TEXT_OPERATORS) for name in TEXT_FIELDS},
    "timezone": _Spec("timezone", ("eq", "ne", "in", "contains")),
    **{name: _Spec("time", _TIME_OPERATORS) for name in TIME_FIELDS},
    "bookings.count": _Spec("count", COMPARISONS, ("window_days", "service_id", "category")),
    "bookings.total_spent": _Spec("sum", COMPARISONS, ("window_days", "service_id", "category")),
    "bookings.last_completed_at": _Spec("last", _TIME_OPERATORS, ("window_days", "service_id", "category")),
    "bookings.service_id": _Spec("service", _MEMBER_OPERATORS, ("window_days",)),
    "bookings.category": _Spec("category", _MEMBER_OPERATORS, ("window_days",)),
    "events.count": _Spec("count", COMPARISONS, ("event_type", "window_days")),
    "events.last_occurred_at": _Spec("last", _TIME_OPERATORS, ("event_type", "window_days")),
}
_ATTRIBUTE = _Spec("attribute", _TEXT_OPERATORS)
_CONSENT = _Spec("consent", ("eq", "ne", "exists"))


# --- Parsed tree ---------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    field: str
    operator: str
    value: Any
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, name: str, default: Any = None) -> Any:
        return dict(self.options).get(name, default)


@dataclass(frozen=True)
class Group:
    kind: str  # all, any or not (a `not` group has exactly one child)
    children: tuple["Condition | Group", ...]


class _Errors:
    """Collects every problem of a tree at once, each at the path of its node."""

    def __init__(self, loc: Sequence):
        self.loc = tuple(loc)
        self.items: list[dict] = []
        self.nodes = 0

    def add(self, path: tuple, msg: str, kind: str) -> None:
        self.items.append({"loc": [*self.loc, *path], "msg": msg, "type": kind})


# --- Parsing and validation ----------------------------------------------------------


def _parse_list(items: Any, path: tuple, errors: _Errors, depth: int) -> tuple:
    if not isinstance(items, list):
        errors.add(path, "Expected a list of conditions.", "list_type")
        return ()
    nodes = (_parse_node(item, (*path, index), errors, depth) for index, item in enumerate(items))
    return tuple(node for node in nodes if node is not None)


def _parse_node(node: Any, path: tuple, errors: _Errors, depth: int) -> Condition | Group | None:
    errors.nodes += 1
    if errors.nodes > MAX_NODES:
        if errors.nodes == MAX_NODES + 1:
            errors.add(path, f"A segment holds at most {MAX_NODES} conditions and groups.", "too_long")
        return None
    if depth > MAX_DEPTH:
        errors.add(path, f"Groups nest at most {MAX_DEPTH} deep.", "too_deep")
        return None
    if not isinstance(node, dict):
        errors.add(path, "Expected a condition or a group (an object).", "dict_type")
        return None
    groups = [key for key in node if key in GROUP_KEYS]
    if groups:
        if len(node) != 1:
            errors.add(path, "A group has exactly one key: all, any, not, and or or.", "value_error")
            return None
        key = groups[0]
        kind = GROUP_KEYS[key]
        if kind == "not":
            child = _parse_node(node[key], (*path, key), errors, depth + 1)
            return Group("not", (child,)) if child is not None else None
        if isinstance(node[key], list) and not node[key]:
            errors.add((*path, key), "A group needs at least one condition.", "too_short")
            return None
        return Group(kind, _parse_list(node[key], (*path, key), errors, depth + 1))
    return _parse_condition(node, path, errors)


def _spec_for(field: str) -> _Spec | None:
    if field in FIELDS:
        return FIELDS[field]
    prefix, _, rest = field.partition(".")
    if prefix == "attributes" and rest and all(rest.split(".")):
        return _ATTRIBUTE
    if prefix == "consent" and rest in CONSENT_CHANNELS:
        return _CONSENT
    return None


def _parse_condition(node: dict, path: tuple, errors: _Errors) -> Condition | None:
    before = len(errors.items)
    field, operator = node.get("field"), node.get("operator")
    for key in ("field", "operator"):
        if key not in node:
            errors.add((*path, key), "Field required.", "missing")
    if "field" in node and not isinstance(field, str):
        errors.add((*path, "field"), "Expected a field name.", "string_type")
    spec = _spec_for(field) if isinstance(field, str) else None
    if isinstance(field, str) and spec is None:
        errors.add((*path, "field"), f"Unknown field {field!r}.", "enum")
    if spec is not None and "operator" in node and operator not in spec.operators:
        errors.add((*path, "operator"), f"{field} takes the operators {', '.join(spec.operators)}.", "enum")
    if spec is not None:
        for key in node.keys() - {"field", "operator", "value", *spec.options}:
            errors.add((*path, key), f"{field} takes no {key!r}.", "extra_forbidden")
    if len(errors.items) > before:
        return None

    options = tuple(
        (name, value)
        for name in spec.options
        if name in node and (value := _option(name, node[name], (*path, name), errors)) is not None
    )
    value = _value(spec, field, operator, node, (*path, "value"), errors)
    if len(errors.items) > before:
        return None
    return Condition(field, operator, value, options)


def _option(name: str, value: Any, path: tuple, errors: _Errors) -> Any:
    if name == "window_days":
        return _days(value, path, errors)
    if name == "service_id":
        return _uuid(value, path, errors)
    if name == "category":
        return _category(value, path, errors)
    if not isinstance(value, str) or not 0 < len(value) <= 100:
        errors.add(path, "Expected an event type (1 to 100 characters).", "string_type")
        return None
    return value


def _value(spec: _Spec, field: str, operator: str, node: dict, path: tuple, errors: _Errors) -> Any:
    if operator == "exists":
        value = node.get("value", True)
        if not isinstance(value, bool):
            errors.add(path, "Expected true or false.", "bool_type")
        return value
    if "value" not in node:
        errors.add(path, "Field required.", "missing")
        return None
    value = node["value"]
    if operator == "within_last_days":
        return _days(value, path, errors)
    if operator == "in":
        if not isinstance(value, list) or not 0 < len(value) <= MAX_IN_VALUES:
            errors.add(path, f"Expected a list of 1 to {MAX_IN_VALUES} values.", "list_type")
            return None
        return tuple(_scalar(spec, field, "eq", item, (*path, index), errors) for index, item in enumerate(value))
    return _scalar(spec, field, operator, value, path, errors)


def _scalar(spec: _Spec, field: str, operator: str, value: Any, path: tuple, errors: _Errors) -> Any:
    """Checks one value against the field's type; returns it in the form the compiler uses."""
    kind = spec.kind
    if kind in ("text", "timezone") or operator == "contains":
        if not isinstance(value, str):
            errors.add(path, "Expected text.", "string_type")
        return value
    if kind in ("time", "last"):
        return _moment(value, path, errors)
    if kind == "consent":
        if not isinstance(value, bool):
            errors.add(path, "Expected true or false.", "bool_type")
        return value
    if kind == "count":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errors.add(path, "Expected a whole number, 0 or more.", "int_type")
        return value
    if kind == "sum":
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.add(path, "Expected a number.", "float_type")
        return value
    if kind == "service":
        return _uuid(value, path, errors)
    if kind == "category":
        return _category(value, path, errors)
    # attributes: text, numbers and booleans; only text and numbers have an order
    if operator in ("gt", "gte", "lt", "lte"):
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            errors.add(path, "Expected text or a number.", "value_error")
    elif not isinstance(value, str | int | float):
        errors.add(path, "Expected text, a number, true or false.", "value_error")
    return value


def _days(value: Any, path: tuple, errors: _Errors) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_DAYS:
        errors.add(path, f"Expected a whole number of days from 1 to {MAX_DAYS}.", "int_type")
        return None
    return value


def _uuid(value: Any, path: tuple, errors: _Errors) -> uuid.UUID | None:
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    errors.add(path, "Expected a service id (a UUID).", "uuid_type")
    return None


def _category(value: Any, path: tuple, errors: _Errors) -> str | None:
    if value in Service.Category.values:
        return value
    errors.add(path, f"Expected a service category: {', '.join(Service.Category.values)}.", "enum")
    return None


def _moment(value: Any, path: tuple, errors: _Errors) -> datetime | None:
    if isinstance(value, str):
        try:
            moment = parse_datetime(value)
            if moment is None and (day := parse_date(value)) is not None:
                moment = datetime.combine(day, time.min)
        except ValueError:
            moment = None
        if moment is not None:
            return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)
    errors.add(path, "Expected an ISO 8601 date or date-time.", "datetime_type")
    return None


def parse_conditions(conditions: Any, *, loc: Sequence = ("body", "conditions")) -> Group:
    """The tree of `conditions`, or ApplicationError INVALID_REQUEST listing every bad node."""
    errors = _Errors(loc)
    tree = Group("all", _parse_list(conditions, (), errors, depth=1))
    if errors.items:
        raise ApplicationError(
            "INVALID_REQUEST",
            validation_message(errors.items),
            status=400,
            details={"errors": errors.items},
            error="Validation error",
        )
    return tree


def validate_conditions(conditions: Any, *, loc: Sequence = ("body", "conditions")) -> None:
    """Raises ApplicationError (400 INVALID_REQUEST) whose details locate each bad node under `loc`."""
    parse_conditions(conditions, loc=loc)


# --- Compilation -----------------------------------------------------------------------

_LOOKUPS = {"eq": Exact, "gt": GreaterThan, "gte": GreaterThanOrEqual, "lt": LessThan, "lte": LessThanOrEqual}
_OPERATORS = {"eq": op.eq, "ne": op.ne, "gt": op.gt, "gte": op.ge, "lt": op.lt, "lte": op.le}


def _compare(lhs, operator: str, value: Any) -> Q:
    """`lhs <operator> value` for an expression that is never NULL where this is asked."""
    if operator == "ne":
        return ~Q(Exact(lhs, value))
    if operator == "in":
        return Q(In(lhs, list(value)))
    if operator == "contains":
        return Q(IContains(lhs, value))
    return Q(_LOOKUPS[operator](lhs, value))


class _Compiler:
    def __init__(self, now: datetime):
        self.now = now

    def node(self, node: Condition | Group) -> Q:
        if isinstance(node, Group):
            parts = [self.node(child) for child in node.children]
            if node.kind == "not":
                return ~parts[0]
            return reduce(op.and_ if node.kind == "all" else op.or_, parts, Q())
        return self.condition(node)

    def since(self, days: int) -> datetime:
        return self.now - timedelta(days=days)

    def condition(self, condition: Condition) -> Q:
        if condition.field.startswith("attributes."):
            return self.attribute(condition)
        if condition.field.startswith("consent."):
            return self.consent(condition)
        kind = FIELDS[condition.field].kind
        return getattr(self, kind)(condition)

    def text(self, condition: Condition) -> Q:
        field, operator, value = condition.field, condition.operator, condition.value
        if operator == "exists":
            return ~Q(**{field: ""}) if value else Q(**{field: ""})
        if operator == "ne":
            return ~Q(**{field: value})
        lookup = {"eq": "exact", "contains": "icontains"}.get(operator, operator)
        return Q(**{f"{field}__{lookup}": value})

    def timezone(self, condition: Condition) -> Q:
        effective = Coalesce(NullIf(F("timezone"), Value("")), F("organization__timezone"))
        return _compare(effective, condition.operator, condition.value)

    def time(self, condition: Condition) -> Q:
        # Plain lookups on the column: an index can serve them, and Django adds
        # the IS NOT NULL guard that keeps a negated comparison exact.
        field, operator, value = condition.field, condition.operator, condition.value
        if operator == "exists":
            return Q(**{f"{field}__isnull": not value})
        if operator == "within_last_days":
            return Q(**{f"{field}__gte": self.since(value)})
        if operator == "ne":
            return ~Q(**{field: value})
        return Q(**{f"{field}__{'exact' if operator == 'eq' else operator}": value})

    def attribute(self, condition: Condition) -> Q:
        path = condition.field.split(".")[1:]
        kind = JSONType("attributes", path)
        operator, value = condition.operator, condition.value
        if operator == "exists":
            present = ~Q(In(kind, ["missing", "null"]))
            return present if value else ~present
        if operator == "ne":
            return ~self.attribute(Condition(condition.field, "eq", value))
        if operator == "in":
            return self.attribute_in(path, value)
        if isinstance(value, bool):
            return Q(Exact(kind, "true" if value else "false"))
        # The type test comes first and is never NULL, so a missing key or a
        # value of another type makes the condition false, not unknown.
        if isinstance(value, str):
            return Q(Exact(kind, "string")) & _compare(JSONText("attributes", path), operator, value)
        return Q(Exact(kind, "number")) & _compare(JSONNumber("attributes", path), operator, value)

    def attribute_in(self, path: list[str], values: tuple) -> Q:
        kind = JSONType("attributes", path)
        texts = [value for value in values if isinstance(value, str)]
        numbers = [value for value in values if isinstance(value, int | float) and not isinstance(value, bool)]
        flags = ["true" if value else "false" for value in values if isinstance(value, bool)]
        parts = []
        if texts:
            parts.append(Q(Exact(kind, "string")) & Q(In(JSONText("attributes", path), texts)))
        if numbers:
            parts.append(Q(Exact(kind, "number")) & Q(In(JSONNumber("attributes", path), numbers)))
        if flags:
            parts.append(Q(In(kind, flags)))
        return reduce(op.or_, parts)

    def consent(self, condition: Condition) -> Q:
        channel = condition.field.partition(".")[2]
        kind = JSONType("consent", [channel])
        if condition.operator == "exists":
            stated = Q(In(kind, ["true", "false"]))
            return stated if condition.value else ~stated
        # API.md: marketing must be granted; a channel only must not be refused.
        granted = Q(Exact(kind, "true")) if channel == "marketing" else ~Q(Exact(kind, "false"))
        return granted if (condition.operator == "eq") == condition.value else ~granted

    # -- bookings and events: subqueries correlated on the contact

    def related(self, condition: Condition) -> QuerySet:
        window = condition.option("window_days")
        if condition.field.startswith("bookings."):
            rows = Booking.objects.filter(contact=OuterRef("pk"), status=Booking.Status.COMPLETED)
            if window:
                rows = rows.filter(finished_at__gte=self.since(window))
            if service_id := condition.option("service_id"):
                rows = rows.filter(service_id=service_id)
            if category := condition.option("category"):
                rows = rows.filter(service__category=category)
            return rows
        rows = Event.objects.filter(contact=OuterRef("pk"))
        if event_type := condition.option("event_type"):
            rows = rows.filter(event_type=event_type)
        return rows.filter(occurred_at__gte=self.since(window)) if window else rows

    def count(self, condition: Condition) -> Q:
        rows = self.related(condition)
        operator, value = condition.operator, condition.value
        holds_at_zero = _OPERATORS[operator](0, value)
        holds_at_one = _OPERATORS[operator](1, value)
        # "Has any" and "has none" need no counting: EXISTS stops at the first
        # row, and PostgreSQL turns it into a semi- or anti-join.
        if holds_at_one and not holds_at_zero and operator in ("gt", "gte", "ne"):
            return Q(Exists(rows))
        if holds_at_zero and not holds_at_one and operator in ("eq", "lt", "lte"):
            return ~Q(Exists(rows))
        # COUNT without GROUP BY yields one row, 0 included, so the subquery is never NULL.
        counted = Subquery(
            rows.order_by().annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField())).values("n")
        )
        return _compare(counted, operator, value)

    def sum(self, condition: Condition) -> Q:
        rows = self.related(condition).order_by()
        total = Func(F("total_price"), function="SUM", output_field=FloatField())
        spent = Coalesce(Subquery(rows.annotate(s=total).values("s")), Value(0.0))
        return _compare(spent, condition.operator, float(condition.value))

    def last(self, condition: Condition) -> Q:
        # last < x  <=>  some row and none at or after x; so every comparison is
        # EXISTS over an index on the time column, and never unknown.
        moment = "finished_at" if condition.field.startswith("bookings.") else "occurred_at"
        rows = self.related(condition).filter(**{f"{moment}__isnull": False})
        operator, value = condition.operator, condition.value
        if operator == "exists":
            return Q(Exists(rows)) if value else ~Q(Exists(rows))
        if operator == "within_last_days":
            operator, value = "gte", self.since(value)

        def any_at(lookup: str) -> Q:
            return Q(Exists(rows.filter(**{f"{moment}__{lookup}": value})))

        if operator in ("gt", "gte"):
            return any_at(operator)
        if operator == "lt":
            return Q(Exists(rows)) & ~any_at("gte")
        if operator == "lte":
            return Q(Exists(rows)) & ~any_at("gt")
        last_is = any_at("exact") & ~any_at("gt")
        return last_is if operator == "eq" else ~last_is

    def service(self, condition: Condition) -> Q:
        return self.member(condition, "service_id")

    def category(self, condition: Condition) -> Q:
        return self.member(condition, "service__category")

    def member(self, condition: Condition, column: str) -> Q:
        values = condition.value if condition.operator == "in" else (condition.value,)
        has = Q(Exists(self.related(condition).filter(**{f"{column}__in": values})))
        return ~has if condition.operator == "ne" else has


def contacts_matching(*, organization: Organization | int, conditions: Any) -> QuerySet[Contact]:
    """The organization's contacts that satisfy `conditions`, as one lazy queryset.

    Raises ApplicationError (400 INVALID_REQUEST) when the conditions are invalid.
    """
    tree = parse_conditions(conditions)
    return Contact.objects.filter(organization=organization).filter(_Compiler(timezone.now()).node(tree))


def segment_contacts(segment: Segment) -> QuerySet[Contact]:
    """The contacts a saved segment holds right now."""
    return contacts_matching(organization=segment.organization_id, conditions=segment.conditions)
