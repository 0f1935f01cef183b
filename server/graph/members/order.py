"""What members can be ordered by, and the sort key of each."""

from enum import Enum

import strawberry

from ..ordering import NAME, keys, order_by, order_term
from ..pagination import SortKey


@strawberry.enum(description="What members can be ordered by.")
class MemberOrderField(Enum):
    NAME = "name"
    SLUG = "slug"
    COUNTRY = "country"
    KIND = "kind"
    POPULATION = "population"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


MemberOrder = order_term("MemberOrder", MemberOrderField, "a members")
MembersOrder = order_by(MemberOrder, "name")
MEMBER_KEYS = keys(
    MemberOrderField, NAME=NAME, POPULATION=SortKey("population", "population", null_as=-1)
)
