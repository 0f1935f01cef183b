"""Partnerships counted by the year they began, kind and status."""

from typing import Annotated

import strawberry

from store.registry import PARTNERSHIP

from ..context import Ctx
from ..counting import By, Grouping, counted, counts
from ..dated import DatedGroup, group_columns
from .enums import PartnershipKind, PartnershipStatus
from .filters import PartnershipsWhere
from .listing import PARTNERSHIPS


@strawberry.type(description="How many partnerships share these values.")
class PartnershipCount:
    count: int = strawberry.field(description="How many.")
    year: int | None = strawberry.field(description="Year they began; null when undated.")
    kind: PartnershipKind | None = strawberry.field(description="Their kind.")
    status: PartnershipStatus | None = strawberry.field(description="Their status.")


COLUMNS = group_columns(PARTNERSHIP)


@counted(Grouping(PARTNERSHIPS, PartnershipCount, lambda _args, _settings: COLUMNS))
async def partnership_counts(
    info: Ctx,
    by: Annotated[list[DatedGroup], By],
    filter: PartnershipsWhere = None,
) -> list[PartnershipCount]:
    return await counts(info, partnership_counts.grouping, filter, by, {})
