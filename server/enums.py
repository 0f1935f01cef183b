"""The domain's vocabularies as GraphQL enums (values are stored lowercase in the tables)."""

from enum import Enum

import strawberry

from store import enums

MemberKind = strawberry.enum(enums.MemberKind, description="What kind of place a member is.")
MembershipStatus = strawberry.enum(
    enums.MembershipStatus, description="A member's standing in an alliance for a period."
)
OrganisationKind = strawberry.enum(enums.OrganisationKind, description="What an organisation is.")
PartnershipKind = strawberry.enum(enums.PartnershipKind, description="What a partnership is about.")
PartnershipStatus = strawberry.enum(
    enums.PartnershipStatus, description="Whether a partnership is proposed, active or ended."
)
EventKind = strawberry.enum(enums.EventKind, description="What kind of event it is.")
EventStatus = strawberry.enum(enums.EventStatus, description="Where an event stands.")
NameKind = strawberry.enum(enums.NameKind, description="What kind of name a name is.")


@strawberry.enum(description="Sort direction.")
class Direction(Enum):
    ASC = "asc"
    DESC = "desc"
