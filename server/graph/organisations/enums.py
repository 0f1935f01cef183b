"""The vocabulary of organisations (docs/domain.md, Vocabularies)."""

import strawberry

from store import enums

OrganisationKind = strawberry.enum(enums.OrganisationKind, description="What an organisation is.")
