"""Counts grouped by fields, for dashboards (docs/api.md, Counts).

A count takes the same filter as its list, so a dashboard's numbers always match the list it
links to. One statement each: the grouping columns, which each area declares, are computed in
an inner SELECT and grouped outside it, which keeps a computed column (a member's current
status, a subquery) groupable on both databases.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, Select, func, select

from server.config import Settings

from .connection import Listing
from .context import Ctx
from .errors import InvalidArgument
from .joins import marked

By = strawberry.argument(description="The fields to group by; each group is counted.")


@dataclass(frozen=True)
class Grouping:
    """What a count field counts: the rows of its listing, grouped by columns that may depend
    on the field's other arguments and the settings (a member's status in which alliance).
    Its resolver carries it as `grouping`, where the compiled path reads it."""

    listing: Listing
    result: type
    columns: Callable[[Mapping[str, Any], Settings], Mapping[str, ColumnElement[Any]]]


def statement(grouping: Grouping, filter_: Any, by: list[Enum], columns) -> Select:
    """How many rows of the listing match `filter_`, by the values of the `by` columns, in
    the order of those values: columns `count` and each group's."""
    if not by:
        raise InvalidArgument("give at least one field to count by", field="by")
    chosen = {group.value: columns[group.value].label(group.value) for group in by}
    table = grouping.listing.table
    inner = (
        select(*chosen.values())
        .select_from(table)
        .where(table.c.deleted_at.is_(None), *grouping.listing.where(filter_))
        .subquery()
    )
    keys = [inner.c[name] for name in chosen]
    return select(*keys, func.count().label("count")).group_by(*keys).order_by(*keys)


def counted(grouping: Grouping) -> Callable:
    """Marks a count resolver with what it counts."""
    return marked(grouping=grouping)


async def counts(
    info: Ctx, grouping: Grouping, filter_: Any, by: list[Enum], args: Mapping[str, Any]
) -> list[Any]:
    """The counts a count field answers; `args` are its arguments besides `filter` and `by`."""
    columns = grouping.columns(args, info.context.settings)
    found = []
    for row in await info.context.reader.rows(statement(grouping, filter_, by, columns)):
        values = {name: None for name in columns} | dict(row._mapping)
        found.append(grouping.result(**values))
    return found
