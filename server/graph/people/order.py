"""What people can be ordered by, and the sort key of each."""

from enum import Enum

import strawberry

from ..ordering import NAME, keys, order_by, order_term


@strawberry.enum(description="What people can be ordered by.")
class PersonOrderField(Enum):
    NAME = "name"
    SLUG = "slug"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


PersonOrder = order_term("PersonOrder", PersonOrderField, "a people")
PeopleOrder = order_by(PersonOrder, "name")
PERSON_KEYS = keys(PersonOrderField, NAME=NAME)
