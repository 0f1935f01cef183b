"""What organisations can be ordered by, and the sort key of each."""

from enum import Enum

import strawberry

from ..ordering import NAME, keys, order_by, order_term


@strawberry.enum(description="What organisations can be ordered by.")
class OrganisationOrderField(Enum):
    NAME = "name"
    SLUG = "slug"
    KIND = "kind"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


OrganisationOrder = order_term("OrganisationOrder", OrganisationOrderField, "an organisations")
OrganisationsOrder = order_by(OrganisationOrder, "name")
ORGANISATION_KEYS = keys(OrganisationOrderField, NAME=NAME)
