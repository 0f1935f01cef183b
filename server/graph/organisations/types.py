"""`Organisation`, and where each relation of it leads."""

from typing import TYPE_CHECKING, Annotated

import strawberry

from store.registry import MEMBER, ORGANISATION, POST

from ..entities import Entity, FromRow, Named
from ..events.listing import took_part
from ..joins import many, one
from ..members.types import Member
from ..partnerships.listing import party_to
from ..relations import relation
from .enums import OrganisationKind

if TYPE_CHECKING:
    from ..people.types import Post


@strawberry.type(description="A company, agency, utility, research body, association or office.")
class Organisation(Entity, Named, FromRow):
    entity_type = "organisation"
    table = ORGANISATION

    kind: OrganisationKind = strawberry.field(description="What kind of organisation it is.")
    description: str | None = strawberry.field(description="What it does, in a sentence or two.")
    sectors: list[str] = strawberry.field(description="Sectors it works in.")
    website: str | None = strawberry.field(description="Its website.")
    member_id: strawberry.Private[int | None]
    parent_id: strawberry.Private[int | None]

    member = relation(Member | None, "The place it is based in.", one(MEMBER, "member_id"))
    parent = relation(
        "Organisation | None",
        "The organisation it belongs to.",
        one(ORGANISATION, "parent_id"),
    )
    subsidiaries = relation(
        "list[Organisation]",
        "Organisations that belong to it.",
        many(ORGANISATION, "parent_id", "sort_key"),
    )
    posts = relation(
        list[Annotated["Post", strawberry.lazy("..people.types")]],
        "Posts in this organisation and who holds them.",
        many(POST, "organisation_id"),
    )

    partnerships = party_to("organisation_id", "Partnerships this organisation is a party to.")

    events = took_part("organisation_id", "Events this organisation took part in.")
