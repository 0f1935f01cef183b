"""Relay connections over keyset pages, top-level or nested under a parent."""

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy import FromClause, select
from strawberry.types import Info

from . import pagination
from .context import Context
from .pagination import Link, Page, PageArgs, SortKey

T = TypeVar("T")


@strawberry.type(description="Where a page sits in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(
        description=(
            "Items come before this page. When paging forward this is true whenever `after` "
            "was given (as the Relay specification allows), and the other way round."
        )
    )
    start_cursor: str | None = strawberry.field(description="Cursor of the first item.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last item.")


@strawberry.type(description="An item and its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Pass as `after` or `before` to page from here.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list, with cursors to page on and its total.")
class Connection(Generic[T]):
    page: strawberry.Private[Page]
    count: strawberry.Private[Callable[[], Any]]

    @strawberry.field(description="The items of this page.")
    def nodes(self) -> list[T]:
        return self.page.items

    @strawberry.field(description="The items of this page with their cursors.")
    def edges(self) -> list[Edge[T]]:
        return [Edge(cursor=self.page.cursor(item), node=item) for item in self.page.items]

    @strawberry.field(description="Cursors and whether more pages exist.")
    def page_info(self) -> PageInfo:
        items = self.page.items
        return PageInfo(
            has_next_page=self.page.has_next,
            has_previous_page=self.page.has_previous,
            start_cursor=self.page.cursor(items[0]) if items else None,
            end_cursor=self.page.cursor(items[-1]) if items else None,
        )

    @strawberry.field(description="How many items match in all pages (counted only when asked).")
    async def total_count(self) -> int:
        return await self.count()


@dataclass(frozen=True)
class Listing:
    """What a connection lists: a table, how to make GraphQL objects of its rows, how to filter
    and order it, and the GraphQL argument types that say so."""

    name: str
    table: FromClause
    build: Callable[[Any], Any]
    where: Callable[[Any], Sequence[Any]] = lambda _filter: ()
    keys: Mapping[Enum, SortKey] = field(default_factory=dict)
    default: Enum | None = None
    filter_arg: Any = None
    order_arg: Any = None


def _window(info: Info[Context, None], listing: Listing, order, args: PageArgs):
    settings = info.context.settings
    return pagination.window(
        listing.table, order, args, settings.default_page_size, settings.max_page_size
    )


async def top_level(
    info: Info[Context, None],
    listing: Listing,
    where: Sequence[Any],
    order: tuple[SortKey, ...],
    args: PageArgs,
) -> Connection:
    table = listing.table
    query = select(table).where(table.c.deleted_at.is_(None), *where)
    win = _window(info, listing, order, args)
    page = await pagination.fetch_page(info.context.reader, query, table, order, win, listing.build)
    return Connection(page=page, count=lambda: pagination.count(info.context.reader, query))


async def nested(
    info: Info[Context, None],
    listing: Listing,
    link: Link,
    parent_id: int,
    where: Sequence[Any],
    order: tuple[SortKey, ...],
    args: PageArgs,
    key: Hashable,
) -> Connection:
    """A page of the children of one parent; all parents of a level share one statement."""
    table = listing.table
    live = [table.c.deleted_at.is_(None), *where]
    win = _window(info, listing, order, args)
    loaders = info.context.loaders
    page_key = (key, order, args)
    page = await loaders.pages_by_parent(
        table, link, live, order, win, listing.build, page_key
    ).load(parent_id)
    counts = loaders.counts_by_parent(table, link, live, key)
    return Connection(page=page, count=lambda: counts.load(parent_id))
