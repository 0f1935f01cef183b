"""`Alliance`, `Member` and `MembershipPeriod`, and where each relation of theirs leads.

Nested lists that can grow (a member's organisations, partnerships, events) are connections;
short ones (posts, memberships) are lists (docs/api.md, Nested edges).
"""

from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import ColumnElement, FromClause, func, select

from server.config import Settings
from store.registry import (
    ALLIANCE,
    MEMBER,
    ORGANISATION,
    PERIOD,
    POST,
    SECRETARIAT,
)

from ..arguments import AllianceSlug
from ..connection import connection_field
from ..context import Ctx
from ..entities import Entity, FromRow, Named
from ..events.listing import took_part
from ..joins import computed, linked, many, narrowed, one
from ..organisations.listing import ORGANISATIONS
from ..pagination import Link, through
from ..partnerships.listing import party_to
from ..relations import relation
from ..scalars import CountryCode, PartialDate
from .enums import MemberKind, MembershipStatus
from .listing import MEMBERS

if TYPE_CHECKING:
    from ..organisations.types import Organisation
    from ..people.types import Post

PERIODS = many(PERIOD, "member_id", "start_date")


@strawberry.type(description="An alliance of cities: the network itself.")
class Alliance(Entity, Named, FromRow):
    entity_type = "alliance"
    table = ALLIANCE

    founded_on: PartialDate | None = strawberry.field(description="When it was founded.")
    website: str | None = strawberry.field(description="Its website.")

    members = connection_field(
        MEMBERS,
        "Members: places with a membership period in this alliance.",
        link=through(PERIOD, "member_id", "alliance_id"),
    )

    secretariats = relation(
        list[Annotated["Organisation", strawberry.lazy("..organisations.types")]],
        "Organisations serving as its secretariat.",
        linked(SECRETARIAT, "alliance_id", "organisation_id", ORGANISATION),
    )


@strawberry.type(description="One period of a member's status in an alliance, as one source said.")
class MembershipPeriod(Entity, FromRow):
    entity_type = "membership_period"
    table = PERIOD

    member_id: strawberry.Private[int]
    alliance_id: strawberry.Private[int]
    status: MembershipStatus = strawberry.field(description="The member's standing in the period.")
    start_date: PartialDate | None = strawberry.field(description="When the period began.")
    end_date: PartialDate | None = strawberry.field(
        description="When it ended; null while it lasts."
    )

    alliance = relation("Alliance | None", "The alliance.", one(ALLIANCE, "alliance_id"))
    member = relation("Member | None", "The member.", one(MEMBER, "member_id"))


@strawberry.type(description="A city, district, region or city network.")
class Member(Entity, Named, FromRow):
    entity_type = "member"
    table = MEMBER

    kind: MemberKind = strawberry.field(description="City, district, region or city network.")
    country: CountryCode = strawberry.field(description="Its country.")
    latitude: float | None = strawberry.field(description="WGS 84 latitude.")
    longitude: float | None = strawberry.field(description="WGS 84 longitude.")
    population: int | None = strawberry.field(description="Inhabitants, where a source gives them.")
    parent_id: strawberry.Private[int | None]

    parent = relation(
        "Member | None", "The city network this place belongs to.", one(MEMBER, "parent_id")
    )
    constituents = relation(
        "list[Member]", "The places of a city network.", many(MEMBER, "parent_id", "sort_key")
    )

    @strawberry.field(description="Its membership periods, in every alliance unless one is named.")
    @narrowed(PERIODS, lambda periods, args, _: _alliance_named(periods, args.get("alliance")))
    async def memberships(self, info: Ctx, alliance: AllianceSlug = None) -> list[MembershipPeriod]:
        periods = await _periods(info, self.id)
        if alliance is None:
            return periods
        wanted = await alliance_by_slug(info).load(alliance)
        return [p for p in periods if wanted is not None and p.alliance_id == wanted.id]

    @strawberry.field(
        description=(
            "Its status now in an alliance (the hub's default alliance unless named): the "
            "latest open period, or null when it has none."
        )
    )
    @computed(lambda row, args, settings: current_status(row, args.get("alliance"), settings))
    async def status(self, info: Ctx, alliance: AllianceSlug = None) -> MembershipStatus | None:
        slug = alliance or info.context.settings.default_alliance
        wanted = await alliance_by_slug(info).load(slug)
        open_periods = [
            p
            for p in await _periods(info, self.id)
            if wanted is not None and p.alliance_id == wanted.id and p.end_date is None
        ]
        latest = max(open_periods, key=lambda p: (p.start_date or "", p.id), default=None)
        return None if latest is None else latest.status

    organisations = connection_field(
        ORGANISATIONS, "Organisations based here.", link=Link(parent=ORGANISATION.c.member_id)
    )

    posts = relation(
        list[Annotated["Post", strawberry.lazy("..people.types")]],
        "Posts held for this place itself (a lord mayor, say).",
        many(POST, "member_id"),
    )

    partnerships = party_to("member_id", "Partnerships this place is a party to.")

    events = took_part("member_id", "Events this place took part in.")


def _in_alliance(periods: FromClause, slug: str) -> ColumnElement[bool]:
    """Periods in the live alliance of that slug; none when there is no such alliance."""
    alliance = (
        select(ALLIANCE.c.id)
        .where(ALLIANCE.c.slug == slug, ALLIANCE.c.deleted_at.is_(None))
        .scalar_subquery()
    )
    return periods.c.alliance_id == alliance


def _alliance_named(periods: FromClause, slug: str | None) -> list[ColumnElement[bool]]:
    return [] if slug is None else [_in_alliance(periods, slug)]


def current_status(member: FromClause, slug: str | None, settings: Settings) -> ColumnElement[Any]:
    """`Member.status` in SQL, which members are also counted by: the status of the latest
    open period of a member in an alliance (the hub's default unless named)."""
    periods = PERIOD.alias()
    return (
        select(periods.c.status)
        .where(
            periods.c.member_id == member.c.id,
            periods.c.deleted_at.is_(None),
            periods.c.end_date.is_(None),
            _in_alliance(periods, slug or settings.default_alliance),
        )
        .order_by(func.coalesce(periods.c.start_date, "").desc(), periods.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def alliance_by_slug(info: Ctx):
    return info.context.loaders.by_slug(ALLIANCE, Alliance.from_row)


async def _periods(info: Ctx, member_id: int) -> list[MembershipPeriod]:
    return await PERIODS.loader(info.context.loaders, None, MembershipPeriod.from_row).load(
        member_id
    )
