"""Per-request DataLoaders: every relation of the graph is fetched in batches.

A loader is made on first use and kept for the request, keyed by what it loads, so the number of
statements a request issues follows the shape of the query, never the number of rows. Loaders
hand back objects made by the `build` function they are given (a GraphQL type's `from_row`).
"""

from collections.abc import Callable, Hashable, Sequence
from typing import Any

from sqlalchemy import FromClause, select
from strawberry.dataloader import DataLoader

from store import tables

from .pagination import Link, Page, SortKey, Window, count_by_parent, fetch_pages_by_parent
from .reader import Reader

Build = Callable[[Any], Any]
IDENTIFIER = tables.Identifier.__table__
SOURCE = tables.Source.__table__


class Loaders:
    def __init__(self, reader: Reader):
        self.reader = reader
        self._made: dict[Hashable, DataLoader] = {}

    def _loader(self, key: Hashable, load: Callable[[list[Any]], Any]) -> DataLoader:
        loader = self._made.get(key)
        if loader is None:
            loader = self._made[key] = DataLoader(load_fn=load)
        return loader

    def by_id(self, table: FromClause, build: Build) -> DataLoader:
        """`<things>_by_id`: the live record with each id, or None."""

        async def load(ids: list[int]) -> list[Any]:
            statement = select(table).where(table.c.id.in_(ids), table.c.deleted_at.is_(None))
            found = {row.id: build(row) for row in await self.reader.rows(statement)}
            return [found.get(pk) for pk in ids]

        return self._loader(("by_id", table.name), load)

    def by_slug(self, table: FromClause, build: Build) -> DataLoader:
        """`<things>_by_slug`: single lookups, batched when a query asks for several."""

        async def load(slugs: list[str]) -> list[Any]:
            statement = select(table).where(table.c.slug.in_(slugs), table.c.deleted_at.is_(None))
            found = {row.slug: build(row) for row in await self.reader.rows(statement)}
            return [found.get(slug) for slug in slugs]

        return self._loader(("by_slug", table.name), load)

    def lists_by(self, table: FromClause, column: str, build: Build, *order: str) -> DataLoader:
        """`<things>_by_<column>`: every live row pointing at each key, for short lists."""

        async def load(keys: list[int]) -> list[list[Any]]:
            statement = (
                select(table)
                .where(table.c[column].in_(keys), table.c.deleted_at.is_(None))
                .order_by(*(table.c[name] for name in order), table.c.id)
            )
            grouped: dict[int, list[Any]] = {key: [] for key in keys}
            for row in await self.reader.rows(statement):
                grouped[row._mapping[column]].append(build(row))
            return [grouped[key] for key in keys]

        return self._loader(("lists_by", table.name, column), load)

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

        async def load(parent_ids: list[int]) -> list[Page]:
            return await fetch_pages_by_parent(
                self.reader, table, link, parent_ids, where, order, win, build
            )

        return self._loader(("pages", key), load)

    def counts_by_parent(
        self, table: FromClause, link: Link, where: Sequence[Any], key: Hashable
    ) -> DataLoader:
        async def load(parent_ids: list[int]) -> list[int]:
            return await count_by_parent(self.reader, table, link, parent_ids, where)

        return self._loader(("counts", key), load)

    def _by_entity(self, table: FromClause, entity_type: str, *order: str) -> DataLoader:
        async def load(ids: list[int]) -> list[list[Any]]:
            statement = (
                select(table)
                .where(table.c.entity_type == entity_type, table.c.entity_id.in_(ids))
                .order_by(*(table.c[name] for name in order), table.c.id)
            )
            grouped: dict[int, list[Any]] = {pk: [] for pk in ids}
            for row in await self.reader.rows(statement):
                grouped[row.entity_id].append(row)
            return [grouped[pk] for pk in ids]

        return self._loader((table.name, entity_type), load)

    def identifiers_by_entity(self, entity_type: str) -> DataLoader:
        return self._by_entity(IDENTIFIER, entity_type, "scheme")

    def sources_by_entity(self, entity_type: str) -> DataLoader:
        return self._by_entity(SOURCE, entity_type)
