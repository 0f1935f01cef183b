"""What partnerships and events share: ordering by date and title, counting by year."""

from enum import Enum
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, FromClause, Integer, cast, func

from .ordering import LAST_DATE, keys, order_by, order_term
from .pagination import SortKey


@strawberry.enum(description="What partnerships and events can be ordered by.")
class DatedOrderField(Enum):
    START_DATE = "start_date"
    TITLE = "title"
    KIND = "kind"
    STATUS = "status"
    SLUG = "slug"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


DatedOrder = order_term("DatedOrder", DatedOrderField, "a partnerships or events")
DatedOrderBy = order_by(DatedOrder, "start date")
DATED_KEYS = keys(
    DatedOrderField, START_DATE=SortKey("start_date", "start_date", null_as=LAST_DATE)
)


@strawberry.enum(description="What partnerships and events can be counted by.")
class DatedGroup(Enum):
    YEAR = "year"
    KIND = "kind"
    STATUS = "status"


def year(table: FromClause) -> ColumnElement[Any]:
    # Partial dates all begin with YYYY; as an integer, the year both paths answer.
    return cast(func.substr(table.c.start_date, 1, 4), Integer)


def group_columns(table: FromClause) -> dict[str, ColumnElement[Any]]:
    """The column each `DatedGroup` counts by, in `table`."""
    return {"year": year(table), "kind": table.c.kind, "status": table.c.status}
