"""How a field reaches other records, declared as data: `one`, `many`, `linked`, `about`.

An area says once, next to the field, which table a relation reaches and by which key columns
(docs/domain.md): the relation fields load through the declaration, and the area's filters
compile the same declaration into their EXISTS subqueries. Nothing else restates the join, so
a later compiler of whole queries can read it here too.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, exists, select
from strawberry.dataloader import DataLoader

from .loaders import Loaders

Build = Callable[[Any], Any]


@dataclass(frozen=True)
class One:
    """The record of `table` that the column `key` of ours names (`table.id == ours.key`)."""

    table: FromClause
    key: str

    @property
    def attribute(self) -> str:
        return self.key

    def loader(self, loaders: Loaders, _record: Any, build: Build) -> DataLoader:
        return loaders.by_id(self.table, build)

    def correlate(self, target: FromClause, ours: FromClause) -> ColumnElement[bool]:
        return target.c.id == ours.c[self.key]


@dataclass(frozen=True)
class Many:
    """The live rows of `table` whose column `key` names us, in `order` and then by id."""

    table: FromClause
    key: str
    order: tuple[str, ...] = ()
    attribute = "id"

    def loader(self, loaders: Loaders, _record: Any, build: Build) -> DataLoader:
        return loaders.lists_by(self.table, self.key, build, *self.order)

    def correlate(self, target: FromClause, ours: FromClause) -> ColumnElement[bool]:
        return target.c[self.key] == ours.c.id


@dataclass(frozen=True)
class Linked:
    """The records of `table` that rows of the link table name in `far`, ours in `near`."""

    link: FromClause
    near: str
    far: str
    table: FromClause
    attribute = "id"

    def loader(self, loaders: Loaders, _record: Any, build: Build) -> DataLoader:
        return loaders.linked_by(self.link, self.near, self.far, self.table, build)


@dataclass(frozen=True)
class About:
    """Rows said about any record (identifiers, sources): by its `entity_type` and id."""

    query: Select
    order: tuple[str, ...] = ()
    attribute = "id"

    def loader(self, loaders: Loaders, record: Any, _build: Build) -> DataLoader:
        return loaders.by_entity(self.query, record.entity_type, *self.order)


Join = One | Many | Linked | About


def one(table: FromClause, key: str) -> One:
    return One(table, key)


def many(table: FromClause, key: str, *order: str) -> Many:
    return Many(table, key, order)


def linked(link: FromClause, near: str, far: str, table: FromClause) -> Linked:
    return Linked(link, near, far, table)


def about(query: Select, *order: str) -> About:
    return About(query, order)


def exists_in(
    join: One | Many, ours: FromClause, conditions: Callable[[FromClause], list[Any]]
) -> ColumnElement[bool]:
    """A live row reached by `join` from a row of `ours` meets `conditions(its table)`.

    The table is aliased: a filter may reach its own table again (a member's parent).
    """
    target = join.table.alias()
    return exists(
        select(target.c.id).where(
            target.c.deleted_at.is_(None), join.correlate(target, ours), *conditions(target)
        )
    )


# What a hand-written resolver computes, said in SQL as well, for the compiled path: a field
# whose answer the database can build is then planned rather than left to the resolvers.
# `row` is the record's row; `args` the field's converted arguments.
Narrow = Callable[[FromClause, dict[str, Any], Any], list[ColumnElement[bool]]]


def marked(**attributes: Any) -> Callable:
    """A decorator that leaves `attributes` on a resolver, where the compiled path reads them."""

    def mark(resolver: Callable) -> Callable:
        for name, value in attributes.items():
            setattr(resolver, name, value)
        return resolver

    return mark


def narrowed(join: "Many", narrow: Narrow) -> Callable:
    """A list field that answers the rows of `join` meeting `narrow(its table, args,
    settings)` (a member's periods in one alliance)."""
    return marked(join=join, narrow=narrow)


def computed(expression: Callable[[FromClause, dict[str, Any], Any], ColumnElement[Any]]):
    """A scalar field that answers `expression(row, args, settings)` (a member's status)."""
    return marked(expression=expression)
