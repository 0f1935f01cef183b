"""The lists of this area, as connections anywhere in the graph list them."""

from typing import TYPE_CHECKING, Annotated

import strawberry

from store.registry import ALLIANCE, MEMBER

from ..connection import Listing
from .filters import MembersWhere
from .order import MEMBER_KEYS, MemberOrderField, MembersOrder

if TYPE_CHECKING:
    from .types import Alliance, Member

MEMBERS = Listing(
    Annotated["Member", strawberry.lazy(".types")],
    MEMBER,
    MEMBER_KEYS,
    MemberOrderField.NAME,
    MembersWhere,
    MembersOrder,
)
ALLIANCES = Listing(Annotated["Alliance", strawberry.lazy(".types")], ALLIANCE)
