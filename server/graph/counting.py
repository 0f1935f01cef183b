"""Counts grouped by fields, for dashboards (docs/api.md, Counts).

A count takes the same filter as its list, so a dashboard's numbers always match the list it
links to. One statement each: the grouping columns, which each area declares, are computed in
an inner SELECT and grouped outside it, which keeps a computed column (a member's current
status, a subquery) groupable on both databases.
"""

from collections.abc import Mapping
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, func, select

from .connection import Listing
from .context import Ctx
from .errors import InvalidArgument

By = strawberry.argument(description="The fields to group by; each group is counted.")


async def counts(
    info: Ctx,
    listing: Listing,
    filter_: Any,
    by: list[Enum],
    columns: Mapping[str, ColumnElement[Any]],
    result: type,
) -> list[Any]:
    """How many rows of `listing` match `filter_`, by the values of the `by` columns."""
    if not by:
        raise InvalidArgument("give at least one field to count by", field="by")
    chosen = {group.value: columns[group.value].label(group.value) for group in by}
    table = listing.table
    inner = (
        select(*chosen.values())
        .select_from(table)
        .where(table.c.deleted_at.is_(None), *listing.where(filter_))
        .subquery()
    )
    keys = [inner.c[name] for name in chosen]
    statement = select(*keys, func.count().label("count")).group_by(*keys).order_by(*keys)
    found = []
    for row in await info.context.reader.rows(statement):
        values = {name: None for name in columns} | dict(row._mapping)
        if values.get("year") is not None:
            values["year"] = int(values["year"])
        found.append(result(**values))
    return found
