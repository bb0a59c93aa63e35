"""A parsed segment tree to one contacts queryset, shaped for PostgreSQL's planner.

PostgreSQL turns EXISTS and IN subqueries into (anti-)semi-joins, run in
parallel and in bulk, only when they sit at the top of a WHERE clause's AND.
Elsewhere, under OR or NOT, it runs them once per contact, on one core. So:

* `not` is pushed down to the conditions first (De Morgan), so it never wraps a group;
* a booking or event condition becomes a set of contact ids, from one pass
  over the bookings or events (GROUP BY … HAVING for counts, sums and latest
  times), or an EXISTS when "has any" / "has none" is all it asks;
* an `all` puts those sets at the top of its WHERE;
* an `any` holding any such set becomes a UNION of contact-id sets, each one
  again a plain query with its subqueries at the top.

Conditions on the contact's own columns stay plain filters of a single scan.
"""

import operator as op
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import reduce
from typing import Any

from django.db.models import Count, Exists, F, FloatField, Max, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, NullIf
from django.db.models.lookups import Exact, IContains, In

from audiences.expressions import JSONCompare, JSONEquals, JSONPresent
from audiences.models import Booking, Contact, Event
from audiences.segment_rules import Condition, Group

_OPERATORS = {"eq": op.eq, "ne": op.ne, "gt": op.gt, "gte": op.ge, "lt": op.lt, "lte": op.le}


@dataclass(frozen=True)
class _Rows:
    """A filter on the contact row; `joins` once it holds subqueries that must stay at the top of a WHERE."""

    q: Q
    joins: bool = False


@dataclass(frozen=True)
class _Ids:
    """The contacts whose id is in `ids` (or, negated, is not); `exists` is the same test as a correlated EXISTS."""

    ids: QuerySet
    negated: bool = False
    exists: QuerySet | None = None


_Part = _Rows | _Ids


def _having(operator: str, name: str, value: Any) -> Q:
    return (
        ~Q(**{name: value})
        if operator == "ne"
        else Q(**{f"{name}__{'exact' if operator == 'eq' else operator}": value})
    )


class SegmentCompiler:
    def __init__(self, *, organization, now: datetime):
        self.organization = organization
        self.now = now
        self.contacts = Contact.objects.filter(organization=organization)

    def queryset(self, tree: Group) -> QuerySet[Contact]:
        return self.contacts.filter(self.as_q(self.node(tree, negated=False)))

    # -- combining parts

    def node(self, node: Condition | Group, *, negated: bool) -> _Part:
        if isinstance(node, Condition):
            return self.condition(node, negated=negated)
        if node.kind == "not":
            return self.node(node.children[0], negated=not negated)
        parts = [self.node(child, negated=negated) for child in node.children]
        # not(all) is any(not …) and not(any) is all(not …)
        return self.conjunction(parts) if (node.kind == "all") != negated else self.disjunction(parts)

    def conjunction(self, parts: list[_Part]) -> _Rows:
        q = reduce(op.and_, (self.as_q(part) for part in parts), Q())
        return _Rows(q, joins=any(isinstance(part, _Ids) or part.joins for part in parts))

    def disjunction(self, parts: list[_Part]) -> _Part:
        plain = [part.q for part in parts if isinstance(part, _Rows) and not part.joins]
        if len(plain) == len(parts):
            return _Rows(reduce(op.or_, plain))
        sets = [self.ids_of(part) for part in parts if not (isinstance(part, _Rows) and not part.joins)]
        if plain:
            sets.insert(0, self.contacts.filter(reduce(op.or_, plain)).values("pk"))
        # UNION rather than UNION ALL: PostgreSQL estimates how many distinct ids a UNION
        # yields, but assumes 200 for UNION ALL and then joins it by nested loops.
        return _Ids(sets[0].union(*sets[1:])) if len(sets) > 1 else _Ids(sets[0])

    def as_q(self, part: _Part) -> Q:
        """The part as a filter for the top of a WHERE, where subqueries become joins."""
        if isinstance(part, _Rows):
            return part.q
        if part.exists is not None:
            return ~Q(Exists(part.exists)) if part.negated else Q(Exists(part.exists))
        if part.negated:
            # EXCEPT, not NOT IN: NOT IN cannot become an anti-join and degrades when the set is large.
            return Q(pk__in=self.contacts.values("pk").difference(part.ids))
        return Q(pk__in=part.ids)

    def ids_of(self, part: _Part) -> QuerySet:
        """The part as a query of contact ids, for a UNION."""
        if isinstance(part, _Ids) and not part.negated:
            return part.ids
        return self.contacts.filter(self.as_q(part)).values("pk")

    # -- conditions on the contact's columns

    def condition(self, condition: Condition, *, negated: bool) -> _Part:
        part = getattr(self, condition.kind)(condition)
        if not negated:
            return part
        return replace(part, negated=not part.negated) if isinstance(part, _Ids) else _Rows(~part.q)

    def since(self, days: int) -> datetime:
        return self.now - timedelta(days=days)

    def text(self, condition: Condition) -> _Rows:
        field, operator, value = condition.field, condition.operator, condition.value
        if operator == "exists":
            return _Rows(~Q(**{field: ""}) if value else Q(**{field: ""}))
        if operator == "ne":
            return _Rows(~Q(**{field: value}))
        lookup = {"eq": "exact", "contains": "icontains"}.get(operator, operator)
        return _Rows(Q(**{f"{field}__{lookup}": value}))

    def timezone(self, condition: Condition) -> _Rows:
        effective = Coalesce(NullIf(F("timezone"), Value("")), F("organization__timezone"))
        operator, value = condition.operator, condition.value
        if operator == "in":
            return _Rows(Q(In(effective, list(value))))
        if operator == "contains":
            return _Rows(Q(IContains(effective, value)))
        equal = Q(Exact(effective, value))
        return _Rows(~equal if operator == "ne" else equal)

    def time(self, condition: Condition) -> _Rows:
        # Plain lookups on the column: an index can serve them, and Django adds
        # the IS NOT NULL guard that keeps a negated comparison exact.
        field, operator, value = condition.field, condition.operator, condition.value
        if operator == "exists":
            return _Rows(Q(**{f"{field}__isnull": not value}))
        if operator == "within_last_days":
            return _Rows(Q(**{f"{field}__gte": self.since(value)}))
        if operator == "ne":
            return _Rows(~Q(**{field: value}))
        return _Rows(Q(**{f"{field}__{'exact' if operator == 'eq' else operator}": value}))

    def attribute(self, condition: Condition, column: str = "attributes") -> _Rows:
        """A condition on a key of a JSON column: the contact's attributes, or (for triggers) an event's properties."""
        path, operator, value = condition.field.split(".")[1:], condition.operator, condition.value
        if operator == "exists":
            present = Q(JSONPresent(column, path))
            return _Rows(present if value else ~present)
        if operator in ("eq", "ne", "in"):
            equals = Q(JSONEquals(column, path, value if operator == "in" else [value]))
            return _Rows(~equals if operator == "ne" else equals)
        return _Rows(Q(JSONCompare(column, path, operator, value)))

    def consent(self, condition: Condition) -> _Rows:
        channel = condition.field.partition(".")[2]
        if condition.operator == "exists":
            stated = Q(JSONEquals("consent", [channel], [True, False]))
            return _Rows(stated if condition.value else ~stated)
        # API.md: marketing must be granted; a channel only must not be refused.
        if channel == "marketing":
            granted = Q(JSONEquals("consent", [channel], [True]))
        else:
            granted = ~Q(JSONEquals("consent", [channel], [False]))
        return _Rows(granted if (condition.operator == "eq") == condition.value else ~granted)

    # -- bookings and events: sets of contact ids

    def related(self, condition: Condition) -> QuerySet:
        """The organization's completed bookings, or its events, that the condition's options select."""
        window = condition.option("window_days")
        if condition.field.startswith("bookings."):
            rows = Booking.objects.filter(organization=self.organization, status=Booking.Status.COMPLETED)
            if window:
                rows = rows.filter(finished_at__gte=self.since(window))
            if service_id := condition.option("service_id"):
                rows = rows.filter(service_id=service_id)
            if category := condition.option("category"):
                rows = rows.filter(service__category=category)
            return rows
        rows = Event.objects.filter(organization=self.organization, contact__isnull=False)
        if event_type := condition.option("event_type"):
            rows = rows.filter(event_type=event_type)
        return rows.filter(occurred_at__gte=self.since(window)) if window else rows

    @staticmethod
    def having_any(rows: QuerySet, *, negated: bool = False) -> _Ids:
        return _Ids(rows.values("contact_id"), negated=negated, exists=rows.filter(contact=OuterRef("pk")))

    def aggregate(self, rows: QuerySet, aggregate, operator: str, value: Any, *, at_zero: bool) -> _Ids:
        """Contacts whose aggregate over their rows satisfies the comparison; a contact without rows counts as 0."""
        grouped = rows.order_by().values("contact_id").annotate(total=aggregate)
        # The set that holds at zero is the complement of the contacts that fail, who all have rows.
        if at_zero:
            return _Ids(grouped.filter(~_having(operator, "total", value)).values("contact_id"), negated=True)
        return _Ids(grouped.filter(_having(operator, "total", value)).values("contact_id"))

    def count(self, condition: Condition) -> _Ids:
        rows, operator, value = self.related(condition), condition.operator, condition.value
        holds = _OPERATORS[operator]
        if holds(1, value) and not holds(0, value) and operator in ("gt", "gte", "ne"):
            return self.having_any(rows)
        if holds(0, value) and not holds(1, value) and operator in ("eq", "lt", "lte"):
            return self.having_any(rows, negated=True)
        return self.aggregate(rows, Count("*"), operator, value, at_zero=holds(0, value))

    def sum(self, condition: Condition) -> _Ids:
        total = Sum("total_price", output_field=FloatField())
        value = float(condition.value)
        at_zero = _OPERATORS[condition.operator](0, value)
        return self.aggregate(self.related(condition), total, condition.operator, value, at_zero=at_zero)

    def last(self, condition: Condition) -> _Ids:
        moment = "finished_at" if condition.field.startswith("bookings.") else "occurred_at"
        rows = self.related(condition).filter(**{f"{moment}__isnull": False})
        operator, value = condition.operator, condition.value
        if operator == "exists":
            return self.having_any(rows, negated=not value)
        if operator == "within_last_days":
            operator, value = "gte", self.since(value)
        # "The last one is after x" is "any is after x": no grouping needed.
        if operator in ("gt", "gte"):
            return self.having_any(rows.filter(**{f"{moment}__{operator}": value}))
        if operator == "ne":
            return replace(self.aggregate(rows, Max(moment), "eq", value, at_zero=False), negated=True)
        return self.aggregate(rows, Max(moment), operator, value, at_zero=False)

    def service(self, condition: Condition) -> _Ids:
        return self.member(condition, "service_id")

    def category(self, condition: Condition) -> _Ids:
        return self.member(condition, "service__category")

    def member(self, condition: Condition, column: str) -> _Ids:
        values = condition.value if condition.operator == "in" else (condition.value,)
        rows = self.related(condition).filter(**{f"{column}__in": values})
        return self.having_any(rows, negated=condition.operator == "ne")
