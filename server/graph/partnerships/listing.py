"""The list of this area, as connections anywhere in the graph list it."""

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from store.registry import PARTNERSHIP, PARTY

from ..connection import Listing, connection_field
from ..dated import DATED_KEYS, DatedOrderBy, DatedOrderField
from ..pagination import through
from .filters import PartnershipsWhere

if TYPE_CHECKING:
    from .types import Partnership

PARTNERSHIPS = Listing(
    Annotated["Partnership", strawberry.lazy(".types")],
    PARTNERSHIP,
    DATED_KEYS,
    DatedOrderField.START_DATE,
    PartnershipsWhere,
    DatedOrderBy,
)


def party_to(column: str, description: str) -> Any:
    """The partnerships a record is party to: those whose parties name it in `column`."""
    return connection_field(
        PARTNERSHIPS, description, link=through(PARTY, "partnership_id", column)
    )
