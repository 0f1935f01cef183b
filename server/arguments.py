"""Argument types shared by the fields of the schema, each with its description."""

from typing import Annotated

import strawberry

from .filters import EventFilter, MemberFilter, OrganisationFilter, PartnershipFilter, PersonFilter
from .ordering import DatedOrder, MemberOrder, OrganisationOrder, PersonOrder

First = Annotated[
    int | None, strawberry.argument(description="Page size from the start (max 100).")
]
After = Annotated[str | None, strawberry.argument(description="Items after this cursor.")]
Last = Annotated[int | None, strawberry.argument(description="Page size from the end (max 100).")]
Before = Annotated[str | None, strawberry.argument(description="Items before this cursor.")]
Lang = Annotated[str | None, strawberry.argument(description="A BCP 47 tag: de, en, zh-Hans.")]
AllianceSlug = Annotated[
    str | None, strawberry.argument(description="Slug of an alliance; the hub's default if null.")
]
Slug = Annotated[str, strawberry.argument(description="The record's slug.")]
MembersWhere = Annotated[
    MemberFilter | None, strawberry.argument(description="Only members matching this.")
]
OrganisationsWhere = Annotated[
    OrganisationFilter | None, strawberry.argument(description="Only organisations matching this.")
]
PartnershipsWhere = Annotated[
    PartnershipFilter | None, strawberry.argument(description="Only partnerships matching this.")
]
EventsWhere = Annotated[
    EventFilter | None, strawberry.argument(description="Only events matching this.")
]
PeopleWhere = Annotated[
    PersonFilter | None, strawberry.argument(description="Only people matching this.")
]
PeopleOrder = Annotated[
    list[PersonOrder] | None, strawberry.argument(description="Sort terms; by name unless given.")
]
MembersOrder = Annotated[
    list[MemberOrder] | None, strawberry.argument(description="Sort terms; by name unless given.")
]
OrganisationsOrder = Annotated[
    list[OrganisationOrder] | None,
    strawberry.argument(description="Sort terms; by name unless given."),
]
DatedOrderBy = Annotated[
    list[DatedOrder] | None,
    strawberry.argument(description="Sort terms; by start date unless given."),
]
