"""Keyset pagination: cursors made of the sort key and the primary key.

A cursor names a position in one ordering (`name ASC, id ASC`), not an offset, so a page stays
correct while a sync inserts rows before it. Sort keys are never NULL in SQL (NULLs are mapped to
a sentinel on both sides), which keeps the row-value comparison portable between SQLite and
PostgreSQL. Nested connections page every parent at once with `ROW_NUMBER() OVER (PARTITION BY
parent)`, one statement however many parents there are.
"""

import base64
import binascii
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    DateTime,
    FromClause,
    Integer,
    Select,
    String,
    TypeDecorator,
    and_,
    func,
    or_,
    select,
)
from sqlalchemy.sql.elements import KeyedColumnElement

from store.tables import as_utc

from .errors import InvalidCursor, PageSizeError
from .input_values import unfit
from .reader import Reader

INTEGERS = range(-(2**31), 2**31)  # what an INTEGER column holds on PostgreSQL


@dataclass(frozen=True)
class SortKey:
    """One term of an ordering: a column, its direction, and what NULL sorts as."""

    name: str
    column: str
    descending: bool = False
    null_as: Any = None

    def expr(self, table: FromClause) -> ColumnElement[Any]:
        column = table.c[self.column]
        return column if self.null_as is None else func.coalesce(column, self.null_as)

    def value(self, item: Any) -> Any:
        found = getattr(item, self.column)
        return self.null_as if found is None else found


PRIMARY_KEY = SortKey("id", "id")


@dataclass(frozen=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass
class Page:
    """The items of one page, and enough to answer `pageInfo` and make cursors."""

    items: list[Any]
    order: tuple[SortKey, ...]
    has_next: bool = False
    has_previous: bool = False
    total: Callable[[], Any] | None = field(default=None, repr=False)

    def cursor(self, item: Any) -> str:
        return encode_cursor(self.order, item)


def signature(order: Sequence[SortKey]) -> str:
    return ",".join(f"{k.name}{'-' if k.descending else '+'}" for k in order)


def _jsonable(value: Any) -> Any:
    return as_utc(value).isoformat() if isinstance(value, dt.datetime) else value


def encode_cursor(order: Sequence[SortKey], item: Any) -> str:
    payload = [signature(order), [_jsonable(k.value(item)) for k in order]]
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def decode_cursor(
    table: FromClause, order: Sequence[SortKey], cursor: str, argument: str
) -> list[Any]:
    """The sort values a cursor holds, each as its column compares against it."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, values = orjson.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        raise InvalidCursor(f"`{argument}` is not a cursor of this API", field=argument) from None
    if made_for != signature(order) or not isinstance(values, list) or len(values) != len(order):
        raise InvalidCursor(
            f"`{argument}` was made for another ordering; keep `orderBy` when paging",
            field=argument,
        )
    return [_typed(table, key, value, argument) for key, value in zip(order, values, strict=True)]


def _typed(table: FromClause, key: SortKey, value: Any, argument: str) -> Any:
    """A cursor's JSON value as the column compares against it. Sort keys are never NULL, so a
    null, or a value of another kind than the column's, is not one this API made."""
    column_type = table.c[key.column].type
    if isinstance(column_type, TypeDecorator):  # SQLModel's AutoString, a String underneath
        column_type = column_type.impl_instance
    if isinstance(column_type, DateTime) and isinstance(value, str):
        try:  # in UTC, as the hub keeps times; one that leaves years 1 to 9999 there is refused
            return as_utc(dt.datetime.fromisoformat(value)).astimezone(dt.UTC)
        except (ValueError, OverflowError):
            pass
    elif isinstance(column_type, Integer) and type(value) is int and value in INTEGERS:
        return value
    elif isinstance(column_type, String) and isinstance(value, str) and unfit(value) is None:
        return value
    raise InvalidCursor(
        f"`{argument}` holds no {key.name} this API could have made", field=argument
    )


def _beyond(table: FromClause, order: Sequence[SortKey], values: list[Any], forward: bool):
    """Rows strictly after (`forward`) or strictly before the position `values`."""
    alternatives = []
    for i, key in enumerate(order):
        expr = key.expr(table)
        ahead = expr > values[i] if key.descending != forward else expr < values[i]
        equal = [order[j].expr(table) == values[j] for j in range(i)]
        alternatives.append(and_(*equal, ahead))
    return or_(*alternatives)


def order_terms(table: FromClause, order: Sequence[SortKey], reverse: bool) -> list[Any]:
    return [
        key.expr(table).desc() if key.descending != reverse else key.expr(table).asc()
        for key in order
    ]


@dataclass(frozen=True)
class Window:
    """A checked page request: how many rows, which way, between which positions."""

    limit: int
    backwards: bool
    conditions: tuple[Any, ...]
    after: bool
    before: bool


def page_size(size: int | None, default: int, maximum: int, name: str = "first") -> int:
    """A page size given as `name`, or `default`; PAGE_SIZE outside 0..`maximum`."""
    if size is None:
        return default
    if not 0 <= size <= maximum:
        raise PageSizeError(f"`{name}` must be between 0 and {maximum}, got {size}", field=name)
    return size


def window(
    table: FromClause, order: Sequence[SortKey], args: PageArgs, default: int, maximum: int
) -> Window:
    if args.first is not None and args.last is not None:
        raise PageSizeError("give `first` or `last`, not both", field="first")
    for name in ("first", "last"):
        page_size(getattr(args, name), default, maximum, name)
    conditions = []
    for name, forward in (("after", True), ("before", False)):
        cursor = getattr(args, name)
        if cursor is not None:
            values = decode_cursor(table, order, cursor, name)
            conditions.append(_beyond(table, order, values, forward))
    backwards = args.last is not None
    limit = args.last if backwards else (args.first if args.first is not None else default)
    return Window(
        limit, backwards, tuple(conditions), args.after is not None, args.before is not None
    )


def _page(items: list[Any], order: tuple[SortKey, ...], win: Window) -> Page:
    more = len(items) > win.limit
    items = items[: win.limit]
    if win.backwards:
        items.reverse()
        return Page(items, order, has_next=win.before, has_previous=more)
    return Page(items, order, has_next=more, has_previous=win.after)


async def fetch_page(
    reader: Reader,
    query: Select,
    table: FromClause,
    order: tuple[SortKey, ...],
    win: Window,
    build: Callable[[Any], Any],
) -> Page:
    """One page of `query` (a SELECT over `table` with its filters applied)."""
    if win.limit == 0:
        return Page([], order, has_next=False, has_previous=win.after)
    statement = (
        query.where(*win.conditions)
        .order_by(*order_terms(table, order, win.backwards))
        .limit(win.limit + 1)
    )
    return _page([build(row) for row in await reader.rows(statement)], order, win)


@dataclass(frozen=True)
class Link:
    """How a child table hangs from its parents: a foreign key, or a join through a link table.

    `parent` is the column holding the parent's id; `through`, when set, is a (deduplicated)
    link subquery joined to the child on `through_child == child.id`, and `link_table` the
    table it deduplicates (a compiled read asks it with EXISTS, row by row).
    """

    parent: KeyedColumnElement[Any]
    through: FromClause | None = None
    through_child: str | None = None
    link_table: FromClause | None = None

    def source(self, table: FromClause) -> FromClause:
        if self.through is None:
            return table
        return table.join(self.through, self.through.c[self.through_child] == table.c.id)


def through(link_table: FromClause, child: str, parent: str) -> Link:
    """Children reached through a link table, each (child, parent) pair once."""
    pairs = (
        select(link_table.c[child], link_table.c[parent])
        .where(link_table.c.deleted_at.is_(None), link_table.c[parent].is_not(None))
        .distinct()
        .subquery()
    )
    return Link(parent=pairs.c[parent], through=pairs, through_child=child, link_table=link_table)


async def fetch_pages_by_parent(
    reader: Reader,
    table: FromClause,
    link: Link,
    where: Sequence[Any],
    order: tuple[SortKey, ...],
    win: Window,
    build: Callable[[Any], Any],
    parent_ids: Sequence[int],
) -> list[Page]:
    """A page per parent, in the order of `parent_ids`, in one statement."""
    if win.limit == 0:
        return [Page([], order, has_previous=win.after) for _ in parent_ids]
    numbered = (
        select(
            *table.c,
            link.parent.label("link_parent"),
            func.row_number()
            .over(partition_by=link.parent, order_by=order_terms(table, order, win.backwards))
            .label("link_rank"),
        )
        .select_from(link.source(table))
        .where(link.parent.in_(parent_ids), *where, *win.conditions)
        .subquery()
    )
    statement = (
        select(numbered)
        .where(numbered.c.link_rank <= win.limit + 1)
        .order_by(numbered.c.link_parent, numbered.c.link_rank)
    )
    grouped: dict[int, list[Any]] = {pid: [] for pid in parent_ids}
    for row in await reader.rows(statement):
        grouped[row.link_parent].append(build(row))
    return [_page(grouped[pid], order, win) for pid in parent_ids]


async def count_by_parent(
    reader: Reader, table: FromClause, link: Link, where: Sequence[Any], parent_ids: Sequence[int]
) -> list[int]:
    statement = (
        select(link.parent, func.count(table.c.id.distinct()))
        .select_from(link.source(table))
        .where(link.parent.in_(parent_ids), *where)
        .group_by(link.parent)
    )
    counts = {parent: count for parent, count in await reader.rows(statement)}
    return [counts.get(pid, 0) for pid in parent_ids]


async def count(reader: Reader, query: Select) -> int:
    return await reader.scalar(select(func.count()).select_from(query.subquery()))
