"""Tests on a key inside a JSON column, with the same answers on PostgreSQL and SQLite.

Django's key transforms compare JSON values by each database's own rules:
PostgreSQL orders jsonb by type before value, SQLite lets any text sort after
any number, so `"40" > 30` differs between them. Here a number compares only
with numbers and text only with text (by code point); a missing key, a JSON
null or another type makes the test false. Every test is true or false, never
NULL, so a negated test is exact.

On PostgreSQL the tests are jsonb containment (`@>`) and JSON path (`@?`)
operators: the planner estimates both from the column's statistics, where an
arbitrary expression would get a fixed guess and a bad plan.
"""

import json
from collections.abc import Sequence

from django.db import NotSupportedError
from django.db.models import BooleanField, F, Func

_PATH_OPERATORS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
Scalar = str | int | float | bool


def _nest(path: Sequence[str], value: Scalar) -> dict:
    for key in reversed(path):
        value = {key: value}
    return value


class _JSONKeyTest(Func):
    """Base: a boolean test of the value at a path of object keys (`("address", "city")`) in a JSON column."""

    output_field = BooleanField()

    def __init__(self, column: str, path: Sequence[str]):
        super().__init__(F(column))
        self.path = tuple(path)

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"{type(self).__name__} supports PostgreSQL and SQLite only.")

    def _column(self, compiler) -> tuple[str, list]:
        column, params = compiler.compile(self.source_expressions[0])
        return column, list(params)

    def _json_path(self, test: str) -> str:
        # strict mode: an array is not unwrapped into its items; the exists() guard
        # makes a missing key false where strict mode alone would answer NULL.
        keys = "".join(f".{json.dumps(key)}" for key in self.path)
        return f"strict $ ? (exists(@{keys})){keys} ? ({test})"

    def _sqlite_args(self, compiler) -> tuple[str, list]:
        column, params = self._column(compiler)
        # Every step quoted as an object key, so a key like "2024" is never read as an array index.
        return f"{column}, %s", [*params, "$" + "".join(f".{json.dumps(key)}" for key in self.path)]


class JSONEquals(_JSONKeyTest):
    """The value equals one of `values`, type included: 34 equals 34.0, "34" does not."""

    def __init__(self, column: str, path: Sequence[str], values: Sequence[Scalar]):
        super().__init__(column, path)
        self.values = tuple(values)

    def as_postgresql(self, compiler, connection, **extra_context):
        column, params = self._column(compiler)
        documents = [json.dumps(_nest(self.path, value)) for value in self.values]
        if len(documents) == 1:
            return f"({column} @> %s::jsonb)", [*params, documents[0]]
        return f"({column} @> ANY(%s::jsonb[]))", [*params, documents]

    def as_sqlite(self, compiler, connection, **extra_context):
        args, params = self._sqlite_args(compiler)
        kind = f"COALESCE(json_type({args}), 'missing')"
        groups = [
            ("'text'", [value for value in self.values if isinstance(value, str)]),
            ("'integer', 'real'", [value for value in self.values if type(value) in (int, float)]),
        ]
        clauses, clause_params = [], []
        for kinds, values in groups:
            if values:
                marks = ", ".join(["%s"] * len(values))
                clauses.append(f"({kind} IN ({kinds}) AND json_extract({args}) IN ({marks}))")
                clause_params += [*params, *params, *values]
        flags = ["true" if value else "false" for value in self.values if isinstance(value, bool)]
        if flags:
            clauses.append(f"{kind} IN ({', '.join(['%s'] * len(flags))})")
            clause_params += [*params, *flags]
        return f"({' OR '.join(clauses)})", clause_params


class JSONCompare(_JSONKeyTest):
    """The value is a number (or text) and compares with `value`: gt, gte, lt, lte, or contains (text only)."""

    def __init__(self, column: str, path: Sequence[str], operator: str, value: str | int | float):
        super().__init__(column, path)
        self.operator, self.value = operator, value

    def as_postgresql(self, compiler, connection, **extra_context):
        column, params = self._column(compiler)
        literal = json.dumps(self.value)  # a JSON literal is a valid JSON path literal, quotes escaped
        if self.operator == "contains":
            test = f'@ like_regex {literal} flag "iq"'  # q: the pattern is plain text, i: any case
        else:
            test = f"@ {_PATH_OPERATORS[self.operator]} {literal}"
        return f"({column} @? %s::jsonpath)", [*params, self._json_path(test)]

    def as_sqlite(self, compiler, connection, **extra_context):
        args, params = self._sqlite_args(compiler)
        kinds = "'text'" if isinstance(self.value, str) else "'integer', 'real'"
        if self.operator == "contains":
            test, value = "LIKE %s ESCAPE '\\'", f"%{connection.ops.prep_for_like_query(self.value)}%"
        else:
            test, value = f"{_PATH_OPERATORS[self.operator]} %s", self.value
        sql = f"(COALESCE(json_type({args}), 'missing') IN ({kinds}) AND json_extract({args}) {test})"
        return sql, [*params, *params, value]


class JSONPresent(_JSONKeyTest):
    """The key is there and its value is not JSON null."""

    def as_postgresql(self, compiler, connection, **extra_context):
        column, params = self._column(compiler)
        return f"({column} @? %s::jsonpath)", [*params, self._json_path('@.type() != "null"')]

    def as_sqlite(self, compiler, connection, **extra_context):
        args, params = self._sqlite_args(compiler)
        return f"(COALESCE(json_type({args}), 'null') != 'null')", params
