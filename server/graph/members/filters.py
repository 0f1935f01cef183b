"""`MemberFilter` and `MembershipFilter`: their fields, and the columns and joins they match."""

from typing import TYPE_CHECKING, Annotated

import strawberry

from store.registry import ALLIANCE, MEMBER, ORGANISATION, PERIOD

from .. import filtering
from ..filtering import DateMatch, IntMatch, OneOf, TextMatch, all_of, any_of, none_of
from ..joins import many, one
from ..scalars import CountryCode
from .enums import MemberKind, MembershipStatus

if TYPE_CHECKING:
    from ..organisations.filters import OrganisationFilter


@strawberry.input(description="Matches membership periods of a member.")
class MembershipFilter:
    alliance: str | None = strawberry.field(default=None, description="Alliance slug.")
    status: OneOf[MembershipStatus] | None = strawberry.field(
        default=None, description="The status in the period."
    )
    start_date: DateMatch | None = strawberry.field(default=None, description="When it began.")
    end_date: DateMatch | None = strawberry.field(default=None, description="When it ended.")
    current: bool | None = strawberry.field(
        default=None, description="True: the period has no end date yet."
    )

    matches = {
        "alliance": filtering.slug_of(one(ALLIANCE, "alliance_id")),
        "status": filtering.one_of("status"),
        "start_date": filtering.dates("start_date"),
        "end_date": filtering.dates("end_date"),
        "current": filtering.current("end_date"),
    }


@strawberry.input(description="Filters members. Fields combine with AND.")
class MemberFilter:
    and_: list["MemberFilter"] | None = all_of()
    or_: list["MemberFilter"] | None = any_of()
    not_: "MemberFilter | None" = none_of()
    slug: TextMatch | None = strawberry.field(default=None, description="Its slug.")
    kind: OneOf[MemberKind] | None = strawberry.field(default=None, description="Its kind.")
    country: OneOf[CountryCode] | None = strawberry.field(default=None, description="Its country.")
    population: IntMatch | None = strawberry.field(default=None, description="Its population.")
    search: str | None = strawberry.field(
        default=None, description="Part of any of its names, in any language."
    )
    membership: MembershipFilter | None = strawberry.field(
        default=None, description="Has a membership period matching this (alliance, status, dates)."
    )
    parent: "MemberFilter | None" = strawberry.field(
        default=None, description="Belongs to a city network matching this."
    )
    has_organisation: (
        Annotated["OrganisationFilter", strawberry.lazy("..organisations.filters")] | None
    ) = strawberry.field(default=None, description="Is home to an organisation matching this.")

    matches = {
        "slug": filtering.text("slug"),
        "kind": filtering.one_of("kind"),
        "country": filtering.one_of("country"),
        "population": filtering.number("population"),
        "search": filtering.search(),
        "membership": filtering.reaches(many(PERIOD, "member_id")),
        "parent": filtering.reaches(one(MEMBER, "parent_id")),
        "has_organisation": filtering.reaches(many(ORGANISATION, "member_id")),
    }


MembersWhere = Annotated[
    MemberFilter | None, strawberry.argument(description="Only members matching this.")
]
