"""validate_conditions: every bad node reported at its path, in the error envelope's shape."""

import pytest

from audiences.segment_rules import MAX_DEPTH, MAX_NODES
from audiences.segments import validate_conditions
from shokti.errors import ApplicationError


def errors_of(conditions, **kwargs) -> list[dict]:
    with pytest.raises(ApplicationError) as caught:
        validate_conditions(conditions, **kwargs)
    error = caught.value
    assert (error.code, error.status) == ("INVALID_REQUEST", 400)
    return error.details["errors"]


def locs(conditions, **kwargs) -> list[tuple]:
    return [(tuple(error["loc"]), error["type"]) for error in errors_of(conditions, **kwargs)]


def test_valid_trees_pass():
    validate_conditions([])
    validate_conditions(
        [
            {"field": "attributes.plan", "operator": "eq", "value": "premium"},
            {
                "any": [
                    {"field": "locale", "operator": "in", "value": ["bn", "en"]},
                    {"not": {"field": "email", "operator": "exists"}},
                ]
            },
            {"or": [{"field": "attributes.age", "operator": "gte", "value": 18}]},
            {"field": "events.count", "event_type": "app_open", "window_days": 30, "operator": "gte", "value": 3},
            {"field": "bookings.last_completed_at", "operator": "lt", "value": "2026-01-01"},
            {"field": "consent.sms", "operator": "exists"},
        ]
    )


def test_a_non_list_is_reported_at_the_root():
    assert locs({"field": "email"}) == [(("body", "conditions"), "list_type")]


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ([{"field": "nope", "operator": "eq", "value": 1}], [((0, "field"), "enum")]),
        ([{"field": "email", "operator": "within_last_days", "value": 3}], [((0, "operator"), "enum")]),
        ([{"field": "email", "value": "x"}], [((0, "operator"), "missing")]),
        ([{"operator": "eq", "value": "x"}], [((0, "field"), "missing")]),
        ([{"field": "email", "operator": "eq"}], [((0, "value"), "missing")]),
        ([{"field": 3, "operator": "eq", "value": "x"}], [((0, "field"), "string_type")]),
        ([{"field": "email", "operator": "eq", "value": 3}], [((0, "value"), "string_type")]),
        (
            [{"field": "email", "operator": "eq", "value": "x", "window_days": 3}],
            [((0, "window_days"), "extra_forbidden")],
        ),
        ([{"field": "email", "operator": "in", "value": "x"}], [((0, "value"), "list_type")]),
        ([{"field": "email", "operator": "in", "value": []}], [((0, "value"), "list_type")]),
        ([{"field": "email", "operator": "in", "value": ["a", 2]}], [((0, "value", 1), "string_type")]),
        ([{"field": "email", "operator": "exists", "value": "yes"}], [((0, "value"), "bool_type")]),
        ([{"field": "created_at", "operator": "gt", "value": "last week"}], [((0, "value"), "datetime_type")]),
        ([{"field": "created_at", "operator": "within_last_days", "value": 0}], [((0, "value"), "int_type")]),
        ([{"field": "attributes.", "operator": "eq", "value": 1}], [((0, "field"), "enum")]),
        ([{"field": "attributes.a..b", "operator": "eq", "value": 1}], [((0, "field"), "enum")]),
        ([{"field": "attributes.age", "operator": "gt", "value": True}], [((0, "value"), "value_error")]),
        ([{"field": "attributes.age", "operator": "eq", "value": None}], [((0, "value"), "value_error")]),
        ([{"field": "attributes.age", "operator": "gt", "value": float("nan")}], [((0, "value"), "value_error")]),
        ([{"field": "bookings.total_spent", "operator": "gt", "value": float("inf")}], [((0, "value"), "float_type")]),
        ([{"field": "attributes.age", "operator": "eq", "value": {"a": 1}}], [((0, "value"), "value_error")]),
        ([{"field": "attributes.tags", "operator": "contains", "value": 1}], [((0, "value"), "string_type")]),
        ([{"field": "consent.fax", "operator": "eq", "value": True}], [((0, "field"), "enum")]),
        ([{"field": "consent.sms", "operator": "eq", "value": "yes"}], [((0, "value"), "bool_type")]),
        ([{"field": "bookings.count", "operator": "gte", "value": "3"}], [((0, "value"), "int_type")]),
        ([{"field": "bookings.count", "operator": "gte", "value": -1}], [((0, "value"), "int_type")]),
        ([{"field": "bookings.count", "operator": "gte", "value": 1.5}], [((0, "value"), "int_type")]),
        ([{"field": "bookings.total_spent", "operator": "gt", "value": "10"}], [((0, "value"), "float_type")]),
        ([{"field": "bookings.service_id", "operator": "eq", "value": "x"}], [((0, "value"), "uuid_type")]),
        ([{"field": "bookings.category", "operator": "eq", "value": "x"}], [((0, "value"), "enum")]),
        (
            [{"field": "bookings.count", "operator": "gte", "value": 1, "category": "spa"}],
            [((0, "category"), "enum")],
        ),
        (
            [{"field": "bookings.count", "operator": "gte", "value": 1, "window_days": "30"}],
            [((0, "window_days"), "int_type")],
        ),
        (
            [{"field": "events.count", "operator": "gte", "value": 1, "event_type": ""}],
            [((0, "event_type"), "string_type")],
        ),
        (
            [{"field": "events.count", "operator": "gte", "value": 1, "service_id": "x"}],
            [((0, "service_id"), "extra_forbidden")],
        ),
        (["email"], [((0,), "dict_type")]),
        ([{"any": "x"}], [((0, "any"), "list_type")]),
        ([{"all": []}], [((0, "all"), "too_short")]),
        ([{"any": [], "all": []}], [((0,), "value_error")]),
        ([{"not": [{"field": "email", "operator": "exists"}]}], [((0, "not"), "dict_type")]),
    ],
)
def test_each_mistake_is_reported_at_its_node(conditions, expected):
    assert locs(conditions) == [(("body", "conditions", *path), kind) for path, kind in expected]


def test_nested_mistakes_carry_the_whole_path_and_all_are_reported():
    conditions = [
        {"field": "email", "operator": "exists"},
        {
            "any": [
                {"field": "locale", "operator": "eq", "value": "bn"},
                {"not": {"field": "bookings.count", "operator": "gte", "value": "x"}},
                {"and": [{"field": "unknown", "operator": "eq", "value": 1}]},
            ]
        },
    ]
    errors = errors_of(conditions)
    assert [error["loc"] for error in errors] == [
        ["body", "conditions", 1, "any", 1, "not", "value"],
        ["body", "conditions", 1, "any", 2, "and", 0, "field"],
    ]
    assert errors[1]["msg"] == "Unknown field 'unknown'."


def test_the_message_names_the_first_bad_node():
    with pytest.raises(ApplicationError) as caught:
        validate_conditions([{"field": "nope", "operator": "eq", "value": 1}, {"field": "x"}])
    assert caught.value.message.startswith("conditions.0.field: Unknown field 'nope'.")
    assert caught.value.message.endswith("(and 2 more)")


def test_the_location_prefix_can_be_chosen():
    assert locs({}, loc=("body", "audiences", 0, "segment_query")) == [
        (("body", "audiences", 0, "segment_query"), "list_type")
    ]


def test_depth_and_size_are_bounded():
    deep: dict = {"field": "email", "operator": "exists"}
    for _ in range(MAX_DEPTH):
        deep = {"not": deep}
    assert [kind for _, kind in locs([deep])] == ["too_deep"]
    many = [{"field": "email", "operator": "exists"}] * (MAX_NODES + 5)
    assert locs(many) == [(("body", "conditions", MAX_NODES), "too_long")]
