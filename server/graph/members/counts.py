"""Members counted by country, kind and current status in an alliance."""

from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy import ColumnElement, FromClause, func, select

from store.registry import ALLIANCE, MEMBER, PERIOD

from ..arguments import AllianceSlug
from ..context import Ctx
from ..counting import By, counts
from ..scalars import CountryCode
from .enums import MemberKind, MembershipStatus
from .filters import MembersWhere
from .listing import MEMBERS


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


def _current_status(member: FromClause, alliance_slug: str) -> ColumnElement[Any]:
    """The status of the latest open membership period of a member in an alliance."""
    return (
        select(PERIOD.c.status)
        .join(ALLIANCE, ALLIANCE.c.id == PERIOD.c.alliance_id)
        .where(
            PERIOD.c.member_id == member.c.id,
            ALLIANCE.c.slug == alliance_slug,
            PERIOD.c.end_date.is_(None),
            PERIOD.c.deleted_at.is_(None),
        )
        .order_by(func.coalesce(PERIOD.c.start_date, "").desc(), PERIOD.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


async def member_counts(
    info: Ctx,
    by: Annotated[list[MemberGroup], By],
    filter: MembersWhere = None,
    alliance: AllianceSlug = None,
) -> list[MemberCount]:
    slug = alliance or info.context.settings.default_alliance
    columns = {
        "country": MEMBER.c.country,
        "kind": MEMBER.c.kind,
        "status": _current_status(MEMBER, slug),
    }
    return await counts(info, MEMBERS, filter, by, columns, MemberCount)
