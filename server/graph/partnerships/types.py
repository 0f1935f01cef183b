"""`Partnership` and `PartnershipParty`, and where each relation of theirs leads."""

from typing import TYPE_CHECKING, Annotated

import strawberry

from store.registry import EVENT, MEMBER, ORGANISATION, PARTNERSHIP, PARTY

from ..entities import Entity, FromRow
from ..joins import many, one
from ..members.types import Member
from ..organisations.types import Organisation
from ..relations import either, relation
from ..scalars import PartialDate
from .enums import PartnershipKind, PartnershipStatus

if TYPE_CHECKING:
    from ..events.types import Event

Party = Annotated[
    Member | Organisation,
    strawberry.union("Party", description="A member or an organisation."),
]


@strawberry.type(description="A party to a partnership, in its role.")
class PartnershipParty(FromRow):
    table = PARTY

    role: str | None = strawberry.field(description="The party's role, as recorded.")
    member_id: strawberry.Private[int | None]
    organisation_id: strawberry.Private[int | None]

    party = either(
        Party | None,
        "The member or organisation.",
        one(MEMBER, "member_id"),
        one(ORGANISATION, "organisation_id"),
    )


@strawberry.type(description="A lasting link between members or organisations.")
class Partnership(Entity, FromRow):
    entity_type = "partnership"
    table = PARTNERSHIP

    slug: str = strawberry.field(description="Stable, lowercase ASCII, unique among partnerships.")
    kind: PartnershipKind = strawberry.field(description="What the partnership is about.")
    status: PartnershipStatus = strawberry.field(description="Proposed, active or ended.")
    title: str = strawberry.field(description="Its title.")
    description: str | None = strawberry.field(description="What it is, in a few sentences.")
    start_date: PartialDate | None = strawberry.field(description="When it began.")
    end_date: PartialDate | None = strawberry.field(description="When it ended.")

    parties = relation(
        list[PartnershipParty],
        "Who is party to it, in which role.",
        many(PARTY, "partnership_id"),
    )
    events = relation(
        list[Annotated["Event", strawberry.lazy("..events.types")]],
        "Events held under this partnership.",
        many(EVENT, "partnership_id", "start_date"),
    )
