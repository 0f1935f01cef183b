"""`PartnershipFilter` and `PartyFilter`: their fields, and the columns and joins they match."""

from typing import Annotated

import strawberry

from store.registry import MEMBER, ORGANISATION, PARTY

from .. import filtering
from ..filtering import DateMatch, OneOf, TextMatch, all_of, any_of, none_of
from ..joins import many, one
from ..members.filters import MemberFilter
from ..organisations.filters import OrganisationFilter
from .enums import PartnershipKind, PartnershipStatus


@strawberry.input(description="Matches a party of a partnership, or a participant of an event.")
class PartyFilter:
    role: TextMatch | None = strawberry.field(default=None, description="The role, as recorded.")
    member: MemberFilter | None = strawberry.field(
        default=None, description="A member matching this."
    )
    organisation: OrganisationFilter | None = strawberry.field(
        default=None, description="An organisation matching this."
    )

    matches = {
        "role": filtering.text("role"),
        "member": filtering.reaches(one(MEMBER, "member_id")),
        "organisation": filtering.reaches(one(ORGANISATION, "organisation_id")),
    }


@strawberry.input(description="Filters partnerships. Fields combine with AND.")
class PartnershipFilter:
    and_: list["PartnershipFilter"] | None = all_of()
    or_: list["PartnershipFilter"] | None = any_of()
    not_: "PartnershipFilter | None" = none_of()
    slug: TextMatch | None = strawberry.field(default=None, description="Its slug.")
    kind: OneOf[PartnershipKind] | None = strawberry.field(default=None, description="Its kind.")
    status: OneOf[PartnershipStatus] | None = strawberry.field(
        default=None, description="Its status."
    )
    start_date: DateMatch | None = strawberry.field(default=None, description="When it began.")
    end_date: DateMatch | None = strawberry.field(default=None, description="When it ended.")
    party: PartyFilter | None = strawberry.field(
        default=None, description="Has a party matching this (e.g. a member in country CN)."
    )

    matches = {
        "slug": filtering.text("slug"),
        "kind": filtering.one_of("kind"),
        "status": filtering.one_of("status"),
        "start_date": filtering.dates("start_date"),
        "end_date": filtering.dates("end_date"),
        "party": filtering.reaches(many(PARTY, "partnership_id")),
    }


PartnershipsWhere = Annotated[
    PartnershipFilter | None, strawberry.argument(description="Only partnerships matching this.")
]
