"""Relay connections over keyset pages, top-level or nested under a parent (docs/api.md)."""

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any, Generic, TypeVar, get_args

import strawberry
from sqlalchemy import FromClause, select

from . import filtering, pagination
from .arguments import After, Before, First, Last
from .context import Ctx
from .ordering import sort_keys
from .pagination import Link, Page, PageArgs, SortKey
from .relations import node_selections, prefetch

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
    """What a connection lists: the GraphQL type of its items (`strawberry.lazy`, so areas can
    list each other's records), their table, how to order them, and the argument types of its
    filter and order; the filter input declares what its fields match (`filtering`)."""

    node: Any
    table: FromClause
    keys: Mapping[Enum, SortKey] = field(default_factory=dict)
    default: Enum | None = None
    filter_arg: Any = None
    order_arg: Any = None

    @cached_property
    def build(self) -> Callable[[Any], Any]:
        """The item type's `from_row`, found once the areas are all imported."""
        forward_ref, lazy = get_args(self.node)
        return lazy.resolve_forward_ref(forward_ref).resolve_type().from_row

    def where(self, filter_: Any) -> filtering.Conditions:
        return filtering.where(filter_, self.table)


def _window(info: Ctx, listing: Listing, order, args: PageArgs):
    settings = info.context.settings
    return pagination.window(
        listing.table, order, args, settings.default_page_size, settings.max_page_size
    )


async def top_level(
    info: Ctx,
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
    info: Ctx,
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


def connection_field(listing: Listing, description: str, link: Link | None = None) -> Any:
    """A connection field over `listing`: top-level, or the children of its object via `link`.

    One function for every list of the graph, so they all take the same arguments.
    """

    async def resolve(
        self,
        info: Ctx,
        filter: listing.filter_arg = None,
        order_by: listing.order_arg = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[listing.node]:
        order = sort_keys(order_by, listing.keys, listing.default)
        args = PageArgs(first=first, after=after, last=last, before=before)
        where = listing.where(filter)
        if link is None:
            connection = await top_level(info, listing, where, order, args)
        else:
            # Filter inputs are dataclasses: their repr tells two filters apart for the loaders.
            key = (listing.table.name, link, repr(filter))
            connection = await nested(info, listing, link, self.id, where, order, args, key)
        selections = node_selections(info.selected_fields[0])
        await prefetch(info.context.loaders, connection.page.items, selections)
        return connection

    resolve.listing, resolve.link = listing, link  # read by the compiler of whole queries
    return strawberry.field(resolver=resolve, description=description)
