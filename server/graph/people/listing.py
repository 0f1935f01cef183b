"""The list of this area, as connections anywhere in the graph list it."""

from typing import TYPE_CHECKING, Annotated

import strawberry

from store.registry import PERSON

from ..connection import Listing
from .filters import PeopleWhere
from .order import PERSON_KEYS, PeopleOrder, PersonOrderField

if TYPE_CHECKING:
    from .types import Person

PEOPLE = Listing(
    Annotated["Person", strawberry.lazy(".types")],
    PERSON,
    PERSON_KEYS,
    PersonOrderField.NAME,
    PeopleWhere,
    PeopleOrder,
)
