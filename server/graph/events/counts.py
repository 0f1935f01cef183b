"""Events counted by the year they began, kind and status."""

from typing import Annotated

import strawberry

from store.registry import EVENT

from ..context import Ctx
from ..counting import By, Grouping, counted, counts
from ..dated import DatedGroup, group_columns
from .enums import EventKind, EventStatus
from .filters import EventsWhere
from .listing import EVENTS


@strawberry.type(description="How many events share these values.")
class EventCount:
    count: int = strawberry.field(description="How many.")
    year: int | None = strawberry.field(description="Year they began; null when undated.")
    kind: EventKind | None = strawberry.field(description="Their kind.")
    status: EventStatus | None = strawberry.field(description="Their status.")


COLUMNS = group_columns(EVENT)


@counted(Grouping(EVENTS, EventCount, lambda _args, _settings: COLUMNS))
async def event_counts(
    info: Ctx,
    by: Annotated[list[DatedGroup], By],
    filter: EventsWhere = None,
) -> list[EventCount]:
    return await counts(info, event_counts.grouping, filter, by, {})
