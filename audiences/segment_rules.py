"""Segment rules as data: the grammar's fields and operators, and the parser that checks a tree.

The grammar itself is described in audiences.segments.
"""

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from audiences.models import Service
from audiences.validators import CONSENT_CHANNELS
from shokti.errors import ApplicationError, validation_message

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
    kind: str  # how the field compiles: text, time, attribute, consent, count, sum, last, service, category, timezone
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
    return Condition(field, spec.kind, operator, value, options)


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
        if not _is_number(value):
            errors.add(path, "Expected a number.", "float_type")
        return value
    if kind == "service":
        return _uuid(value, path, errors)
    if kind == "category":
        return _category(value, path, errors)
    # attributes: text, numbers and booleans; only text and numbers have an order
    if operator in ("gt", "gte", "lt", "lte"):
        if not (isinstance(value, str) or _is_number(value)):
            errors.add(path, "Expected text or a number.", "value_error")
    elif not (isinstance(value, str | bool) or _is_number(value)):
        errors.add(path, "Expected text, a number, true or false.", "value_error")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


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
    """The tree of `conditions`, or ApplicationError INVALID_REQUEST listing every bad node under `loc`."""
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
