"""Counts grouped by a field, for dashboards: members by country and status, organisations by
kind, events and partnerships by year.

Each takes the same filter as its list, so a dashboard's numbers always match the list it
links to. One statement each: the grouping columns are computed in an inner SELECT and grouped
outside it, which keeps a member's current status (a subquery) groupable on both databases.
"""

from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy import ColumnElement, FromClause, func, select

from .arguments import (
    AllianceSlug,
    EventsWhere,
    MembersWhere,
    OrganisationsWhere,
    PartnershipsWhere,
)
from .connection import Listing
from .enums import (
    EventKind,
    EventStatus,
    MemberKind,
    MembershipStatus,
    OrganisationKind,
    PartnershipKind,
    PartnershipStatus,
)
from .errors import InvalidArgument
from .filters import ALLIANCE, EVENT, MEMBER, ORGANISATION, PARTNERSHIP, PERIOD
from .scalars import CountryCode
from .types import (
    EVENTS,
    MEMBERS,
    ORGANISATIONS,
    PARTNERSHIPS,
    Ctx,
)


@strawberry.enum(description="What members can be counted by.")
class MemberGroup(Enum):
    COUNTRY = "country"
    KIND = "kind"
    STATUS = "status"


@strawberry.enum(description="What organisations can be counted by.")
class OrganisationGroup(Enum):
    KIND = "kind"
    COUNTRY = "country"


@strawberry.enum(description="What partnerships and events can be counted by.")
class DatedGroup(Enum):
    YEAR = "year"
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


@strawberry.type(description="How many organisations share these values.")
class OrganisationCount:
    count: int = strawberry.field(description="How many.")
    kind: OrganisationKind | None = strawberry.field(description="Their kind.")
    country: CountryCode | None = strawberry.field(description="Country of their home member.")


@strawberry.type(description="How many partnerships share these values.")
class PartnershipCount:
    count: int = strawberry.field(description="How many.")
    year: int | None = strawberry.field(description="Year they began; null when undated.")
    kind: PartnershipKind | None = strawberry.field(description="Their kind.")
    status: PartnershipStatus | None = strawberry.field(description="Their status.")


@strawberry.type(description="How many events share these values.")
class EventCount:
    count: int = strawberry.field(description="How many.")
    year: int | None = strawberry.field(description="Year they began; null when undated.")
    kind: EventKind | None = strawberry.field(description="Their kind.")
    status: EventStatus | None = strawberry.field(description="Their status.")


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


def _home_country(organisation: FromClause) -> ColumnElement[Any]:
    return select(MEMBER.c.country).where(MEMBER.c.id == organisation.c.member_id).scalar_subquery()


def _year(table: FromClause) -> ColumnElement[Any]:
    return func.substr(table.c.start_date, 1, 4)  # partial dates all begin with YYYY


async def _counts(
    info: Ctx,
    listing: Listing,
    filter_: Any,
    by: list[Enum],
    columns: Mapping[str, ColumnElement[Any]],
    result: type,
) -> list[Any]:
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


By = strawberry.argument(description="The fields to group by; each group is counted.")


@strawberry.type(description="Counts for dashboards.")
class CountQuery:
    @strawberry.field(description="Members matching the filter, counted by the given fields.")
    async def member_counts(
        self,
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
        return await _counts(info, MEMBERS, filter, by, columns, MemberCount)

    @strawberry.field(description="Organisations matching the filter, counted by the given fields.")
    async def organisation_counts(
        self,
        info: Ctx,
        by: Annotated[list[OrganisationGroup], By],
        filter: OrganisationsWhere = None,
    ) -> list[OrganisationCount]:
        columns = {"kind": ORGANISATION.c.kind, "country": _home_country(ORGANISATION)}
        return await _counts(info, ORGANISATIONS, filter, by, columns, OrganisationCount)

    @strawberry.field(description="Partnerships matching the filter, counted by the given fields.")
    async def partnership_counts(
        self,
        info: Ctx,
        by: Annotated[list[DatedGroup], By],
        filter: PartnershipsWhere = None,
    ) -> list[PartnershipCount]:
        columns = {
            "year": _year(PARTNERSHIP),
            "kind": PARTNERSHIP.c.kind,
            "status": PARTNERSHIP.c.status,
        }
        return await _counts(info, PARTNERSHIPS, filter, by, columns, PartnershipCount)

    @strawberry.field(description="Events matching the filter, counted by the given fields.")
    async def event_counts(
        self,
        info: Ctx,
        by: Annotated[list[DatedGroup], By],
        filter: EventsWhere = None,
    ) -> list[EventCount]:
        columns = {"year": _year(EVENT), "kind": EVENT.c.kind, "status": EVENT.c.status}
        return await _counts(info, EVENTS, filter, by, columns, EventCount)
