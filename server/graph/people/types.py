"""`Person` and `Post`, and where each relation of theirs leads."""

import strawberry

from store.enums import Role
from store.registry import MEMBER, ORGANISATION, PERSON, POST

from ..access import needs
from ..entities import Entity, FromRow, Named
from ..events.listing import took_part
from ..joins import many, one
from ..members.types import Member
from ..organisations.types import Organisation
from ..relations import relation
from ..scalars import PartialDate


@strawberry.type(description="One way to reach a person, as a source gives it.")
class ContactDetail:
    type: str = strawberry.field(description="The medium: `email`, `voice`, `fax`, `address`.")
    value: str = strawberry.field(description="The address or number.")
    label: str | None = strawberry.field(description="A label for people: `Büro`.")
    note: str | None = strawberry.field(description="A note about it.")


@strawberry.type(description="Someone who acts for a member or an organisation.")
class Person(Entity, Named, FromRow):
    entity_type = "person"
    table = PERSON

    sort_name: str | None = strawberry.field(description="Family name first: `Weiler, Stefan`.")
    honorific_prefix: str | None = strawberry.field(description="Dr., Prof., as sources give it.")
    contact_details: strawberry.Private[list[dict[str, str]]]

    @strawberry.field(
        name="contactDetails",
        description="How to reach this person. Only `partner` and `operator` keys may ask.",
        metadata=needs(Role.PARTNER),
    )
    def contacts(self) -> list[ContactDetail]:
        return [
            ContactDetail(
                type=c["type"], value=c["value"], label=c.get("label"), note=c.get("note")
            )
            for c in self.contact_details
        ]

    posts = relation("list[Post]", "The posts this person holds or held.", many(POST, "person_id"))

    events = took_part("person_id", "Events this person took part in.")


@strawberry.type(description="A position a person holds in an organisation or for a member.")
class Post(Entity, FromRow):
    entity_type = "post"
    table = POST

    label: str = strawberry.field(description="As the source words it: `Geschäftsführer`.")
    role: str | None = strawberry.field(description="A normalised role: `managing_director`.")
    start_date: PartialDate | None = strawberry.field(description="When the post began.")
    end_date: PartialDate | None = strawberry.field(description="When it ended; null while held.")
    person_id: strawberry.Private[int]
    organisation_id: strawberry.Private[int | None]
    member_id: strawberry.Private[int | None]

    person = relation(Person | None, "Who holds the post.", one(PERSON, "person_id"))
    organisation = relation(
        Organisation | None,
        "The organisation the post is in, if any.",
        one(ORGANISATION, "organisation_id"),
    )
    member = relation(
        Member | None, "The member the post is for, if any.", one(MEMBER, "member_id")
    )
