"""The root fields of this area: partnerships, one by slug, and their counts."""

import strawberry

from ..connection import connection_field
from ..lookups import lookup_field
from . import counts
from .listing import PARTNERSHIPS


@strawberry.type(description="Reading partnerships.")
class PartnershipQuery:
    partnerships = connection_field(
        PARTNERSHIPS, "Partnerships, filtered and ordered (by start date unless told)."
    )
    partnership = lookup_field(PARTNERSHIPS, "partnership", "A partnership by slug.")
    partnership_counts = strawberry.field(
        resolver=counts.partnership_counts,
        description="Partnerships matching the filter, counted by the given fields.",
    )
