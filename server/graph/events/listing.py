"""The list of this area, as connections anywhere in the graph list it."""

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from store.registry import EVENT, PARTICIPANT

from ..connection import Listing, connection_field
from ..dated import DATED_KEYS, DatedOrderBy, DatedOrderField
from ..pagination import through
from .filters import EventsWhere

if TYPE_CHECKING:
    from .types import Event

EVENTS = Listing(
    Annotated["Event", strawberry.lazy(".types")],
    EVENT,
    DATED_KEYS,
    DatedOrderField.START_DATE,
    EventsWhere,
    DatedOrderBy,
)


def took_part(column: str, description: str) -> Any:
    """The events a record took part in: those whose participants name it in `column`."""
    return connection_field(EVENTS, description, link=through(PARTICIPANT, "event_id", column))
