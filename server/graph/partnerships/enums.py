"""The vocabularies of partnerships (docs/domain.md, Vocabularies)."""

import strawberry

from store import enums

PartnershipKind = strawberry.enum(enums.PartnershipKind, description="What a partnership is about.")
PartnershipStatus = strawberry.enum(
    enums.PartnershipStatus, description="Whether a partnership is proposed, active or ended."
)
