"""The root fields of this area: organisations, one by slug, and their counts."""

import strawberry

from ..connection import connection_field
from ..lookups import lookup_field
from . import counts
from .listing import ORGANISATIONS


@strawberry.type(description="Reading organisations.")
class OrganisationQuery:
    organisations = connection_field(ORGANISATIONS, "Organisations, filtered and ordered.")
    organisation = lookup_field(ORGANISATIONS, "organisation", "An organisation by slug.")
    organisation_counts = strawberry.field(
        resolver=counts.organisation_counts,
        description="Organisations matching the filter, counted by the given fields.",
    )
