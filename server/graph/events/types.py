"""`Event` and `EventParticipant`, and where each relation of theirs leads."""

from typing import Annotated

import strawberry

from store.registry import EVENT, MEMBER, ORGANISATION, PARTICIPANT, PARTNERSHIP, PERSON

from ..entities import Entity, FromRow
from ..joins import many, one
from ..members.types import Member
from ..organisations.types import Organisation
from ..partnerships.types import Partnership
from ..people.types import Person
from ..relations import either, relation
from ..scalars import PartialDate
from .enums import EventKind, EventStatus

Actor = Annotated[
    Member | Organisation | Person,
    strawberry.union("Actor", description="A member, an organisation or a person."),
]


@strawberry.type(description="A participant of an event, in its role.")
class EventParticipant(FromRow):
    table = PARTICIPANT

    role: str | None = strawberry.field(description="The participant's role, as recorded.")
    member_id: strawberry.Private[int | None]
    organisation_id: strawberry.Private[int | None]
    person_id: strawberry.Private[int | None]
    on_behalf_of_member_id: strawberry.Private[int | None]
    on_behalf_of_organisation_id: strawberry.Private[int | None]
    on_behalf_of_person_id: strawberry.Private[int | None]

    participant = either(
        Actor | None,
        "The member, organisation or person.",
        one(MEMBER, "member_id"),
        one(ORGANISATION, "organisation_id"),
        one(PERSON, "person_id"),
    )
    on_behalf_of = either(
        Actor | None,
        "Whom the participant acted for, if anyone.",
        one(MEMBER, "on_behalf_of_member_id"),
        one(ORGANISATION, "on_behalf_of_organisation_id"),
        one(PERSON, "on_behalf_of_person_id"),
    )


@strawberry.type(description="A plenary, ceremony, delegation visit, fair or meeting.")
class Event(Entity, FromRow):
    entity_type = "event"
    table = EVENT

    slug: str = strawberry.field(description="Stable, lowercase ASCII, unique among events.")
    kind: EventKind = strawberry.field(description="What kind of event it is.")
    status: EventStatus = strawberry.field(description="Requested, planned, held or cancelled.")
    title: str = strawberry.field(description="Its title.")
    description: str | None = strawberry.field(description="What happened, in a few sentences.")
    start_date: PartialDate | None = strawberry.field(description="When it began (or begins).")
    end_date: PartialDate | None = strawberry.field(description="When it ended.")
    place: str | None = strawberry.field(description="Where, in words.")
    partnership_id: strawberry.Private[int | None]

    participants = relation(
        list[EventParticipant],
        "Who took part, in which role, on whose behalf.",
        many(PARTICIPANT, "event_id"),
    )
    partnership = relation(
        Partnership | None,
        "The partnership the event belongs to, if any.",
        one(PARTNERSHIP, "partnership_id"),
    )
