"""Organisations counted by kind and by the country of their home member."""

from enum import Enum
from typing import Annotated, Any

import strawberry
from sqlalchemy import ColumnElement, FromClause, select

from store.registry import MEMBER, ORGANISATION

from ..context import Ctx
from ..counting import By, Grouping, counted, counts
from ..scalars import CountryCode
from .enums import OrganisationKind
from .filters import OrganisationsWhere
from .listing import ORGANISATIONS


@strawberry.enum(description="What organisations can be counted by.")
class OrganisationGroup(Enum):
    KIND = "kind"
    COUNTRY = "country"


@strawberry.type(description="How many organisations share these values.")
class OrganisationCount:
    count: int = strawberry.field(description="How many.")
    kind: OrganisationKind | None = strawberry.field(description="Their kind.")
    country: CountryCode | None = strawberry.field(description="Country of their home member.")


def _home_country(organisation: FromClause) -> ColumnElement[Any]:
    return select(MEMBER.c.country).where(MEMBER.c.id == organisation.c.member_id).scalar_subquery()


COLUMNS = {"kind": ORGANISATION.c.kind, "country": _home_country(ORGANISATION)}


@counted(Grouping(ORGANISATIONS, OrganisationCount, lambda _args, _settings: COLUMNS))
async def organisation_counts(
    info: Ctx,
    by: Annotated[list[OrganisationGroup], By],
    filter: OrganisationsWhere = None,
) -> list[OrganisationCount]:
    return await counts(info, organisation_counts.grouping, filter, by, {})
