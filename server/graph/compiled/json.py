"""JSON built by the database, in each dialect's words (docs/architecture.md, Compiled reads).

PostgreSQL builds `json` (never `jsonb`: it would reorder the keys of an answer) with
`json_build_object` and `json_agg`. SQLite builds text with `json_object` and
`json_group_array` (a JSON value keeps its JSON subtype through scalar subqueries); SQLite 3.40
has no ORDER BY inside an aggregate, so the rows are ordered in the subquery that feeds it.
Scalars come out exactly as the resolver path prints them: global ids and cursors in the same
base64url, times in the same ISO 8601.
"""

import base64
import datetime as dt
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    DateTime,
    FromClause,
    Integer,
    Select,
    Text,
    TypeDecorator,
    case,
    cast,
    event,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncEngine

from store import names as name_rules
from store.tables import as_utc

from .. import ids
from ..pagination import SortKey, signature

# json_build_object takes at most 100 arguments on PostgreSQL (50 keys and their values), and
# SQLite's json_object 127: a selection of more fields is left to the resolver path.
MAX_KEYS = 50


class NotPlanned(Exception):
    """The operation asks for something the compiler does not build; it runs on resolvers."""


def _key(name: str) -> ColumnElement[Any]:
    # Response keys are GraphQL names ([_A-Za-z][_0-9A-Za-z]*): safe as inline literals, and
    # as literals they leave the statement's parameters to the values.
    return literal_column(f"'{name}'", Text)


def _column_kind(column: ColumnElement[Any]) -> str:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, DateTime):
        return "time"
    if isinstance(kind, Integer):
        return "int"
    return "text"


class Json:
    """How one dialect builds the parts of an answer."""

    name = ""

    def object(self, pairs: Sequence[tuple[str, ColumnElement[Any]]]) -> ColumnElement[Any]:
        if len(pairs) > MAX_KEYS:
            raise NotPlanned(f"a selection of more than {MAX_KEYS} fields")
        args = [part for key, value in pairs for part in (_key(key), value)]
        return self._object(args)

    def _object(self, args: list[ColumnElement[Any]]) -> ColumnElement[Any]:
        raise NotImplementedError

    def array(self, items: Sequence[ColumnElement[Any]]) -> ColumnElement[Any]:
        raise NotImplementedError

    def nested(self, query: Select) -> ColumnElement[Any]:
        """The JSON one row of `query` builds, as a value of the enclosing object."""
        return query.scalar_subquery()

    def aggregate(
        self, value: ColumnElement[Any], order: Sequence[ColumnElement[Any]]
    ) -> ColumnElement[Any]:
        """An array of `value` over the rows, in `order` (SQLite: in the rows' own order)."""
        raise NotImplementedError

    def list_of(
        self, value: ColumnElement[Any], rows: FromClause, order: Sequence[ColumnElement[Any]]
    ) -> ColumnElement[Any]:
        """An array of `value` over the rows of `rows`, in `order`, as a value of the enclosing
        object."""
        return self.nested(select(self.or_empty(self.aggregate(value, order))).select_from(rows))

    def ordered(self, query: Select) -> Select:
        """`query`, to be read as a subquery in its own ORDER BY."""
        return query

    def empty_array(self) -> ColumnElement[Any]:
        raise NotImplementedError

    def or_empty(self, aggregated: ColumnElement[Any]) -> ColumnElement[Any]:
        """An aggregated array, or `[]` over no rows."""
        return func.coalesce(aggregated, self.empty_array())

    def boolean(self, condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return condition

    def embedded(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        """A JSON column (sectors), as JSON inside the answer."""
        return column

    def member(self, column: ColumnElement[Any], key: str) -> ColumnElement[Any]:
        """The text at `key` of a JSON object column."""
        raise NotImplementedError

    def is_object(self, column: ColumnElement[Any]) -> ColumnElement[bool]:
        raise NotImplementedError

    def least(self, a: Any, b: Any) -> ColumnElement[Any]:
        raise NotImplementedError

    def time(self, column: ColumnElement[Any]) -> ColumnElement[Any]:
        raise NotImplementedError

    def global_id(self, type_name: str, pk: ColumnElement[Any]) -> ColumnElement[Any]:
        raise NotImplementedError

    def cursor(self, order: Sequence[SortKey], row: Any) -> ColumnElement[Any]:
        raise NotImplementedError

    def localized_name(self, row: Any, lang: str) -> ColumnElement[Any]:
        """`name(lang:)`: store/names.py `resolve`'s choice, else the record's own name. The
        rule is the database's `hub_localized_name`: on PostgreSQL a function of migration
        0008, on SQLite the Python rule itself."""
        chosen = func.hub_localized_name(row.c.names, literal(lang, Text), row.c.default_lang)
        return func.coalesce(func.nullif(chosen, ""), row.c.name)

    def text(self, data: ColumnElement[Any]) -> ColumnElement[Any]:
        """The whole answer's `data` as text, which the server sends as it comes."""
        return data


def _base64url(data: ColumnElement[Any]) -> ColumnElement[Any]:
    # encode(…, 'base64') breaks its lines every 76 characters; base64url has no lines.
    encoded = func.replace(func.encode(func.convert_to(data, "UTF8"), "base64"), "\n", "")
    return func.rtrim(func.translate(encoded, "+/", "-_"), "=")


class Postgres(Json):
    name = "postgresql"

    def _object(self, args):
        return func.json_build_object(*args)

    def array(self, items):
        return func.json_build_array(*items)

    def aggregate(self, value, order):
        return func.json_agg(aggregate_order_by(value, *order) if order else value)

    def list_of(self, value, rows, order):
        # ARRAY(subquery) keeps the subquery's order; an ordered json_agg sorts its rows again,
        # for every parent (PostgreSQL 15 has no presorted aggregates).
        listed = select(value).select_from(rows).order_by(*order).scalar_subquery()
        return func.array_to_json(func.array(listed))

    def empty_array(self):
        return literal_column("'[]'::json")

    def member(self, column, key):
        return column.op("->>")(literal(key, Text))

    def is_object(self, column):
        return func.json_typeof(column) == "object"

    def least(self, a, b):
        return func.least(a, b)

    def time(self, column):
        # As Python's isoformat() of the UTC datetime asyncpg hands back: microseconds only
        # when there are any, the offset always.
        utc = column.op("AT TIME ZONE")(literal("UTC", Text))
        seconds = func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS')
        micros = case(
            (cast(func.date_part("microseconds", column), Integer) % 1000000 == 0, ""),
            else_=func.to_char(utc, ".US"),
        )
        return seconds.op("||")(micros).op("||")(literal("+00:00", Text))

    def global_id(self, type_name, pk):
        return _base64url(literal(f"{type_name}:", Text).op("||")(cast(pk, Text)))

    def cursor(self, order, row):
        # The text orjson makes of [signature, [values]]: no spaces, strings escaped alike.
        values = []
        for key in order:
            value = key.expr(row)
            kind = _column_kind(row.c[key.column])
            if kind == "time":
                values.append(literal('"', Text).op("||")(self.time(value)).op("||")('"'))
            elif kind == "int":
                values.append(cast(value, Text))
            else:
                values.append(cast(func.to_json(cast(value, Text)), Text))
        payload = literal(f'["{signature(order)}",[', Text)
        for i, value in enumerate(values):
            payload = payload.op("||")(value if i == 0 else literal(",", Text).op("||")(value))
        return _base64url(payload.op("||")(literal("]]", Text)))

    def text(self, data):
        return cast(data, Text)


class Sqlite(Json):
    name = "sqlite"

    def _object(self, args):
        return func.json_object(*args)

    def array(self, items):
        return func.json_array(*items)

    def aggregate(self, value, order):
        return func.json_group_array(value)

    def empty_array(self):
        return func.json("[]")

    def or_empty(self, aggregated):
        return aggregated  # json_group_array makes `[]` of no rows

    def ordered(self, query):
        return query.limit(-1)  # a subquery with a LIMIT keeps its ORDER BY in SQLite

    def boolean(self, condition):
        return func.json(case((condition, "true"), else_="false"))

    def embedded(self, column):
        return func.json(column)

    def member(self, column, key):
        return func.json_extract(column, f"$.{key}")

    def is_object(self, column):
        return func.json_type(column) == "object"

    def least(self, a, b):
        return func.min(a, b)

    def time(self, column):
        return func.hub_time(column)

    def global_id(self, type_name, pk):
        return func.hub_global_id(type_name, pk)

    def cursor(self, order, row):
        values = []
        for key in order:
            value = key.expr(row)
            time = _column_kind(row.c[key.column]) == "time"
            values.append(self.time(value) if time else value)
        return func.hub_cursor(signature(order), *values)


def _sqlite_time(stored: str | None) -> str | None:
    # What SQLAlchemy reads back from SQLite (a naive datetime, in UTC), printed as the
    # DateTime scalar prints it (`server.graph.scalars`).
    return None if stored is None else as_utc(dt.datetime.fromisoformat(stored)).isoformat()


def _sqlite_global_id(type_name: str, pk: int | None) -> str | None:
    return None if pk is None else ids.encode(type_name, pk)


def _sqlite_cursor(signature_: str, *values: Any) -> str:
    payload = orjson.dumps([signature_, list(values)])
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def _sqlite_localized_name(names: str | None, lang: str, default_lang: str) -> str | None:
    return name_rules.resolve(orjson.loads(names or "[]"), lang, default_lang)


def _register(dbapi_connection, record, _proxy) -> None:
    # At checkout, once per connection: connections made before the compiler are covered too.
    if record.info.get("hub_functions"):
        return
    record.info["hub_functions"] = True
    for name, arity, function in (
        ("hub_time", 1, _sqlite_time),
        ("hub_global_id", 2, _sqlite_global_id),
        ("hub_cursor", -1, _sqlite_cursor),
        ("hub_localized_name", 3, _sqlite_localized_name),
    ):
        dbapi_connection.create_function(name, arity, function, deterministic=True)


def for_engine(engine: AsyncEngine) -> Json:
    """The dialect of `engine`; on SQLite its connections learn the functions SQLite lacks."""
    if engine.dialect.name == "postgresql":
        return Postgres()
    if not event.contains(engine.sync_engine, "checkout", _register):
        event.listen(engine.sync_engine, "checkout", _register)
    return Sqlite()
