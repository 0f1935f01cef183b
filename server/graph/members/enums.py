"""The vocabularies of members and memberships (docs/domain.md, Vocabularies)."""

import strawberry

from store import enums

MemberKind = strawberry.enum(enums.MemberKind, description="What kind of place a member is.")
MembershipStatus = strawberry.enum(
    enums.MembershipStatus, description="A member's standing in an alliance for a period."
)
