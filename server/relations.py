"""Relations between records, declared once, loaded in batches, and prefetched by lookahead.

A relation field is resolved through a request's DataLoader. Awaiting a loader costs graphql-core
and asyncio far more per object than reading an attribute (bench/), and a nested page holds
hundreds of such fields. So a connection looks at what its query asks for below it, loads those
relations for the whole page at once (the same loaders, the same statements), and leaves the
results on the records; the fields then answer synchronously. A record reached any other way
still gets its relation through the loader.
"""

import asyncio
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField
from strawberry.utils.str_converters import to_camel_case

from .loaders import Loaders

_MISSING = object()
_slots = itertools.count()


@dataclass(frozen=True, eq=False)
class Relation:
    """`loader(loaders, record)` keyed by the record's `key` attribute; kept in `slot`."""

    loader: Callable[[Loaders, Any], DataLoader]
    key: str
    slot: str


def relation(
    returns: Any, description: str, loader: Callable[[Loaders, Any], DataLoader], key: str = "id"
) -> Any:
    """A field following a relation: `returns` is its GraphQL type (forward refs allowed)."""
    found = Relation(loader, key, f"_relation_{next(_slots)}")

    def resolve(self, info: strawberry.Info) -> Any:
        kept = self.__dict__.get(found.slot, _MISSING)
        if kept is not _MISSING:
            return kept
        value = getattr(self, found.key)
        return None if value is None else found.loader(info.context.loaders, self).load(value)

    resolve.relation = found
    return strawberry.field(resolver=resolve, graphql_type=returns, description=description)


@cache
def relations_of(cls: type) -> dict[str, Relation]:
    """The relation fields of a GraphQL type, by GraphQL name (none for plain rows)."""
    found = {}
    definition = getattr(cls, "__strawberry_definition__", None)
    for field in definition.fields if definition else ():
        resolver = field.base_resolver
        relation_ = getattr(resolver.wrapped_func, "relation", None) if resolver else None
        if relation_ is not None:
            found[field.graphql_name or to_camel_case(field.python_name)] = relation_
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
    keyed = [r for r in records if getattr(r, relation_.key) is not None]
    loader = relation_.loader(loaders, records[0])
    # One awaited future after another rather than `load_many`'s gather: the futures of one
    # batch complete together, and awaiting a done future costs nothing.
    futures = [loader.load(getattr(r, relation_.key)) for r in keyed]
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
