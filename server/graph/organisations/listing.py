"""The list of this area, as connections anywhere in the graph list it."""

from typing import TYPE_CHECKING, Annotated

import strawberry

from store.registry import ORGANISATION

from ..connection import Listing
from .filters import OrganisationsWhere
from .order import ORGANISATION_KEYS, OrganisationOrderField, OrganisationsOrder

if TYPE_CHECKING:
    from .types import Organisation

ORGANISATIONS = Listing(
    Annotated["Organisation", strawberry.lazy(".types")],
    ORGANISATION,
    ORGANISATION_KEYS,
    OrganisationOrderField.NAME,
    OrganisationsWhere,
    OrganisationsOrder,
)
