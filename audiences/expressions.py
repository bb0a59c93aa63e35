"""Typed reads of a key inside a JSON column, with the same results on PostgreSQL and SQLite.

Django's key transforms compare JSON values by each database's own rules:
PostgreSQL orders jsonb by type before value, SQLite lets any text sort after
any number, so `"40" > 30` differs between them. Segments need one meaning
everywhere, so they read a key's type and its value as a number or as text
separately, and compare only values of the type asked for.
"""

import json
from collections.abc import Sequence

from django.db import NotSupportedError
from django.db.models import BooleanField, CharField, F, FloatField, Func


class _JSONKeyFunc(Func):
    """Base: one JSON column and a path of object keys (`("address", "city")`)."""

    def __init__(self, column: str, path: Sequence[str], **extra):
        super().__init__(F(column), **extra)
        self.path = tuple(path)

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"{type(self).__name__} supports PostgreSQL and SQLite only.")

    def _pg_value(self, compiler, connection) -> tuple[str, list]:
        column, params = compiler.compile(self.source_expressions[0])
        # `#>` with a text[] of keys: keys travel as a parameter, never spliced into SQL.
        return f"({column} #> %s)", [*params, list(self.path)]

    def _sqlite_column_and_path(self, compiler, connection) -> tuple[str, list]:
        column, params = compiler.compile(self.source_expressions[0])
        # Every step quoted as an object key, so a key like "2024" is never read as an array index.
        path = "$" + "".join(f".{json.dumps(key)}" for key in self.path)
        return f"{column}, %s", [*params, path]


def _nest(path: Sequence[str], value) -> dict:
    for key in reversed(path):
        value = {key: value}
    return value


class JSONEquals(_JSONKeyFunc):
    """Whether the value equals one of `values`, type included (34 equals 34.0, "34" does not). Never NULL.

    On PostgreSQL this is jsonb containment (`@>`), which the planner estimates
    from the column's statistics and a GIN index can serve.
    """

    output_field = BooleanField()

    def __init__(self, column: str, path: Sequence[str], values: Sequence[str | int | float | bool]):
        super().__init__(column, path)
        self.values = tuple(values)

    def as_postgresql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.source_expressions[0])
        documents = [json.dumps(_nest(self.path, value)) for value in self.values]
        if len(documents) == 1:
            return f"({column} @> %s::jsonb)", [*params, documents[0]]
        return f"({column} @> ANY(%s::jsonb[]))", [*params, documents]

    def as_sqlite(self, compiler, connection, **extra_context):
        args, params = self._sqlite_column_and_path(compiler, connection)
        texts = [value for value in self.values if isinstance(value, str)]
        numbers = [value for value in self.values if isinstance(value, int | float) and not isinstance(value, bool)]
        flags = ["true" if value else "false" for value in self.values if isinstance(value, bool)]
        # COALESCE: json_type() of a missing key is NULL, and NOT (NULL) would drop the contact.
        kind = f"COALESCE(json_type({args}), 'missing')"
        clauses, clause_params = [], []
        for kinds, group in ((("'text'",), texts), (("'integer'", "'real'"), numbers)):
            if group:
                marks = ", ".join(["%s"] * len(group))
                clauses.append(f"({kind} IN ({', '.join(kinds)}) AND json_extract({args}) IN ({marks}))")
                clause_params += [*params, *params, *group]
        if flags:
            clauses.append(f"{kind} IN ({', '.join(['%s'] * len(flags))})")
            clause_params += [*params, *flags]
        return f"({' OR '.join(clauses)})", clause_params


class JSONType(_JSONKeyFunc):
    """The value's type: number, string, true, false, null, array, object, or missing. Never NULL."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        value, params = self._pg_value(compiler, connection)
        sql = (
            f"COALESCE(CASE jsonb_typeof({value}) WHEN 'boolean' THEN {value} #>> '{{}}' "
            f"ELSE jsonb_typeof({value}) END, 'missing')"
        )
        return sql, [*params, *params, *params]

    def as_sqlite(self, compiler, connection, **extra_context):
        args, params = self._sqlite_column_and_path(compiler, connection)
        sql = (
            f"COALESCE(CASE json_type({args}) WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number' "
            f"WHEN 'text' THEN 'string' ELSE json_type({args}) END, 'missing')"
        )
        return sql, [*params, *params]


class JSONNumber(_JSONKeyFunc):
    """The value when it is a JSON number, else NULL (a string is never cast, so never an error)."""

    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra_context):
        value, params = self._pg_value(compiler, connection)
        sql = f"CASE WHEN jsonb_typeof({value}) = 'number' THEN ({value} #>> '{{}}')::double precision END"
        return sql, [*params, *params]

    def as_sqlite(self, compiler, connection, **extra_context):
        args, params = self._sqlite_column_and_path(compiler, connection)
        return f"CASE WHEN json_type({args}) IN ('integer', 'real') THEN json_extract({args}) END", [*params, *params]


class JSONText(_JSONKeyFunc):
    """The value when it is a JSON string, else NULL."""

    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        value, params = self._pg_value(compiler, connection)
        return f"CASE WHEN jsonb_typeof({value}) = 'string' THEN {value} #>> '{{}}' END", [*params, *params]

    def as_sqlite(self, compiler, connection, **extra_context):
        args, params = self._sqlite_column_and_path(compiler, connection)
        return f"CASE WHEN json_type({args}) = 'text' THEN json_extract({args}) END", [*params, *params]
