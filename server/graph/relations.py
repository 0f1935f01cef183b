"""Relation fields: each follows a join its area declares (`joins`), loads in batches, and is
prefetched by lookahead. What the rows become is read from the field's own GraphQL type.

A relation field is resolved through a request's DataLoader. Awaiting a loader costs graphql-core
and asyncio far more per object than reading an attribute (bench/), and a nested page holds
hundreds of such fields. So a connection looks at what its query asks for below it, loads those
relations for the whole page at once (the same loaders, the same statements), and leaves the
results on the records; the fields then answer synchronously. A record reached any other way
still gets its relation through the loader.
"""

import asyncio
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import strawberry
from strawberry.types.base import StrawberryList, StrawberryOptional
from strawberry.types.lazy_type import LazyType
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField
from strawberry.types.union import StrawberryUnion
from strawberry.utils.str_converters import to_camel_case

from .joins import Build, Join, One
from .loaders import Loaders

_MISSING = object()
_slots = itertools.count()


def _builder(returns: Any, join: Join) -> Build:
    """How to make the field's objects from rows: the `from_row` of its GraphQL type (of the
    member read from the join's table, for a union); rows as they are for plain types."""
    while isinstance(returns, StrawberryOptional | StrawberryList):
        returns = returns.of_type
    if isinstance(returns, LazyType):
        returns = returns.resolve_type()
    if isinstance(returns, StrawberryUnion):
        returns = next(t for t in returns.types if t.table is join.table)
    return getattr(returns, "from_row", lambda row: row)


@dataclass(eq=False)
class Relation:
    """A field's `join`, loaded by the record's `join.attribute` and kept in `slot`."""

    join: Join
    slot: str
    _build: Build | None = None

    def bind(self, returns: Any) -> "Relation":
        """Learns from the field's resolved GraphQL type what to make of the rows."""
        if self._build is None:
            self._build = _builder(returns, self.join)
        return self

    def loader(self, loaders: Loaders, record: Any) -> Any:
        return self.join.loader(loaders, record, self._build)


def relation(returns: Any, description: str, join: Join) -> Any:
    """A field following `join`: `returns` is its GraphQL type (forward refs allowed)."""
    found = Relation(join, f"_relation_{next(_slots)}")
    key = join.attribute

    def resolve(self, info: strawberry.Info) -> Any:
        kept = self.__dict__.get(found.slot, _MISSING)
        if kept is not _MISSING:
            return kept
        value = getattr(self, key)
        if value is None:
            return None
        loader = found.bind(info.return_type).loader(info.context.loaders, self)
        return loader.load(value)

    resolve.relation = found
    return strawberry.field(resolver=resolve, graphql_type=returns, description=description)


def either(returns: Any, description: str, *joins: One) -> Any:
    """A field naming one record of several tables (a union): the first of `joins` whose key
    the object holds. Not prefetched: an answer holds few of them."""
    builds: list[Build | None] = [None] * len(joins)

    def resolve(self, info: strawberry.Info) -> Any:
        for i, join in enumerate(joins):
            value = getattr(self, join.key)
            if value is not None:
                build = builds[i] = builds[i] or _builder(info.return_type, join)
                return join.loader(info.context.loaders, self, build).load(value)
        return None

    resolve.joins = joins
    return strawberry.field(resolver=resolve, graphql_type=returns, description=description)


@cache
def relations_of(cls: type) -> dict[str, Relation]:
    """The relation fields of a GraphQL type, by GraphQL name (none for plain rows)."""
    found = {}
    definition = getattr(cls, "__strawberry_definition__", None)
    for declared in definition.fields if definition else ():
        resolver = declared.base_resolver
        relation_ = getattr(resolver.wrapped_func, "relation", None) if resolver else None
        if relation_ is not None:
            name = declared.graphql_name or to_camel_case(declared.python_name)
            found[name] = relation_.bind(declared.type)
    return found


def _applies(fragment: InlineFragment | FragmentSpread, cls: type) -> bool:
    condition = fragment.type_condition
    if condition is None or condition == cls.__name__:
        return True
    return any(i.name == condition for i in cls.__strawberry_definition__.interfaces)


def _fields(selections: Iterable[Any], cls: type) -> Iterable[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif _applies(selection, cls):
            yield from _fields(selection.selections, cls)


def node_selections(connection: SelectedField) -> list[Any]:
    """What a connection's query asks of each item, under `nodes` and `edges { node }`."""
    found = []
    for field in connection.selections:
        if isinstance(field, SelectedField) and field.name == "nodes":
            found += field.selections
        elif isinstance(field, SelectedField) and field.name == "edges":
            for edge_field in field.selections:
                if isinstance(edge_field, SelectedField) and edge_field.name == "node":
                    found += edge_field.selections
    return found


async def prefetch(loaders: Loaders, records: Sequence[Any], selections: list[Any]) -> None:
    """Load every relation `selections` asks of `records` (all of one type), level by level."""
    if not records or not selections:
        return
    relations = relations_of(type(records[0]))
    if not relations:
        return
    wanted: dict[Relation, list[Any]] = {}
    for field in _fields(selections, type(records[0])):
        relation_ = relations.get(field.name)
        if relation_ is not None:
            wanted.setdefault(relation_, []).extend(field.selections)
    await asyncio.gather(*(_follow(loaders, r, records, s) for r, s in wanted.items()))


async def _follow(loaders: Loaders, relation_: Relation, records: Sequence[Any], below) -> None:
    key = relation_.join.attribute
    keyed = [r for r in records if getattr(r, key) is not None]
    loader = relation_.loader(loaders, records[0])
    # One awaited future after another rather than `load_many`'s gather: the futures of one
    # batch complete together, and awaiting a done future costs nothing.
    futures = [loader.load(getattr(r, key)) for r in keyed]
    values = [await future for future in futures]
    for record in records:
        record.__dict__[relation_.slot] = None
    for record, value in zip(keyed, values, strict=True):
        record.__dict__[relation_.slot] = value
    reached = [v for value in values for v in (value if isinstance(value, list) else [value])]
    by_type: dict[type, list[Any]] = {}
    for record in reached:
        if record is not None:
            by_type.setdefault(type(record), []).append(record)
    await asyncio.gather(*(prefetch(loaders, group, below) for group in by_type.values()))
