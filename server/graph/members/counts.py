"""Members counted by country, kind and current status in an alliance."""

from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy import ColumnElement

from server.config import Settings
from store.registry import MEMBER

from ..arguments import AllianceSlug
from ..context import Ctx
from ..counting import By, Grouping, counted, counts
from ..scalars import CountryCode
from .enums import MemberKind, MembershipStatus
from .filters import MembersWhere
from .listing import MEMBERS
from .types import current_status


@strawberry.enum(description="What members can be counted by.")
class MemberGroup(Enum):
    COUNTRY = "country"
    KIND = "kind"
    STATUS = "status"


@strawberry.type(description="How many members share these values; unasked fields are null.")
class MemberCount:
    count: int = strawberry.field(description="How many.")
    country: CountryCode | None = strawberry.field(description="Their country.")
    kind: MemberKind | None = strawberry.field(description="Their kind.")
    status: MembershipStatus | None = strawberry.field(
        description="Their current status in the alliance; null for places without one."
    )


def _columns(args: Mapping[str, Any], settings: Settings) -> dict[str, ColumnElement[Any]]:
    slug = args.get("alliance")
    return {
        "country": MEMBER.c.country,
        "kind": MEMBER.c.kind,
        "status": current_status(MEMBER, slug, settings),
    }


@counted(Grouping(MEMBERS, MemberCount, _columns))
async def member_counts(
    info: Ctx,
    by: Annotated[list[MemberGroup], By],
    filter: MembersWhere = None,
    alliance: AllianceSlug = None,
) -> list[MemberCount]:
    return await counts(info, member_counts.grouping, filter, by, {"alliance": alliance})
