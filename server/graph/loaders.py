"""Per-request DataLoaders: every relation of the graph is fetched in batches.

A loader is made on first use and kept for the request, keyed by what it loads, so the number of
statements a request issues follows the shape of the query, never the number of rows. Loaders
hand back objects made by the `build` function they are given (a GraphQL type's `from_row`).
Resolvers ask for their loader once per object, so a hit is a dictionary lookup and nothing
else; the load function is only made on a miss.
"""

from collections.abc import Callable, Hashable, Sequence
from functools import partial
from typing import Any

from sqlalchemy import FromClause, Select, select
from strawberry.dataloader import DataLoader

from .pagination import Link, SortKey, Window, count_by_parent, fetch_pages_by_parent
from .reader import Reader

Build = Callable[[Any], Any]


class Loaders:
    def __init__(self, reader: Reader):
        self.reader = reader
        self._made: dict[Hashable, DataLoader] = {}

    def _make(self, key: Hashable, load: Callable[[list[Any]], Any]) -> DataLoader:
        loader = self._made[key] = DataLoader(load_fn=load)
        return loader

    def by_id(self, table: FromClause, build: Build) -> DataLoader:
        """`<things>_by_id`: the live record with each id, or None."""
        key = ("by_id", table.name)
        return self._made.get(key) or self._make(key, partial(self._by, table, "id", build))

    def by_slug(self, table: FromClause, build: Build) -> DataLoader:
        """`<things>_by_slug`: single lookups, batched when a query asks for several."""
        key = ("by_slug", table.name)
        return self._made.get(key) or self._make(key, partial(self._by, table, "slug", build))

    async def _by(self, table: FromClause, column: str, build: Build, keys: list[Any]) -> list:
        statement = select(table).where(table.c[column].in_(keys), table.c.deleted_at.is_(None))
        found = {row._mapping[column]: build(row) for row in await self.reader.rows(statement)}
        return [found.get(key) for key in keys]

    def lists_by(self, table: FromClause, column: str, build: Build, *order: str) -> DataLoader:
        """`<things>_by_<column>`: every live row pointing at each key, for short lists."""
        key = ("lists_by", table.name, column)
        return self._made.get(key) or self._make(
            key, partial(self._lists, table, column, build, order)
        )

    async def _lists(
        self, table: FromClause, column: str, build: Build, order: tuple[str, ...], keys: list[int]
    ) -> list[list[Any]]:
        statement = (
            select(table)
            .where(table.c[column].in_(keys), table.c.deleted_at.is_(None))
            .order_by(*(table.c[name] for name in order), table.c.id)
        )
        grouped: dict[int, list[Any]] = {key: [] for key in keys}
        for row in await self.reader.rows(statement):
            grouped[row._mapping[column]].append(build(row))
        return [grouped[key] for key in keys]

    def linked_by(
        self, link: FromClause, near: str, far: str, table: FromClause, build: Build
    ) -> DataLoader:
        """`<things>_by_<near>` through a link table: the live rows its `far` column names."""
        key = ("linked_by", link.name, near)
        return self._made.get(key) or self._make(
            key, partial(self._linked, link, near, far, table, build)
        )

    async def _linked(
        self, link: FromClause, near: str, far: str, table: FromClause, build: Build, keys: list
    ) -> list[list[Any]]:
        statement = (
            select(table, link.c[near].label("link_key"))
            .join(link, link.c[far] == table.c.id)
            .where(link.c[near].in_(keys), table.c.deleted_at.is_(None))
            .order_by(table.c.id)
        )
        grouped: dict[Any, list[Any]] = {key: [] for key in keys}
        for row in await self.reader.rows(statement):
            grouped[row.link_key].append(build(row))
        return [grouped[key] for key in keys]

    def pages_by_parent(
        self,
        table: FromClause,
        link: Link,
        where: Sequence[Any],
        order: tuple[SortKey, ...],
        win: Window,
        build: Build,
        key: Hashable,
    ) -> DataLoader:
        """A page of children per parent; `key` tells apart the filters and page arguments."""
        key = ("pages", key)
        return self._made.get(key) or self._make(
            key, partial(fetch_pages_by_parent, self.reader, table, link, where, order, win, build)
        )

    def counts_by_parent(
        self, table: FromClause, link: Link, where: Sequence[Any], key: Hashable
    ) -> DataLoader:
        key = ("counts", key)
        return self._made.get(key) or self._make(
            key, partial(count_by_parent, self.reader, table, link, where)
        )

    def by_entity(self, query: Select, entity_type: str, *order: str) -> DataLoader:
        """`<rows>_by_entity`: what `query` (identifiers, sources) holds about each record."""
        key = (query, entity_type)
        return self._made.get(key) or self._make(
            key, partial(self._of_entities, query, entity_type, order)
        )

    async def _of_entities(
        self, query: Select, entity_type: str, order: tuple[str, ...], ids: list[int]
    ) -> list[list[Any]]:
        columns = query.selected_columns
        wanted = (columns.entity_type == entity_type, columns.entity_id.in_(ids))
        statement = query.where(*wanted).order_by(*(columns[name] for name in order), columns.id)
        grouped: dict[int, list[Any]] = {pk: [] for pk in ids}
        for row in await self.reader.rows(statement):
            grouped[row.entity_id].append(row)
        return [grouped[pk] for pk in ids]
