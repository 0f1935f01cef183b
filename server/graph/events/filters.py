"""`EventFilter` and `ParticipantFilter`: their fields, and the columns and joins they match."""

from typing import Annotated

import strawberry

from store.registry import PARTICIPANT, PARTNERSHIP, PERSON

from .. import filtering
from ..filtering import DateMatch, OneOf, TextMatch, all_of, any_of, none_of
from ..joins import many, one
from ..partnerships.filters import PartnershipFilter, PartyFilter
from ..people.filters import PersonFilter
from .enums import EventKind, EventStatus


@strawberry.input(description="Matches a participant of an event.")
class ParticipantFilter(PartyFilter):
    person: PersonFilter | None = strawberry.field(
        default=None, description="A person matching this."
    )

    matches = PartyFilter.matches | {"person": filtering.reaches(one(PERSON, "person_id"))}


@strawberry.input(description="Filters events. Fields combine with AND.")
class EventFilter:
    and_: list["EventFilter"] | None = all_of()
    or_: list["EventFilter"] | None = any_of()
    not_: "EventFilter | None" = none_of()
    slug: TextMatch | None = strawberry.field(default=None, description="Its slug.")
    kind: OneOf[EventKind] | None = strawberry.field(default=None, description="Its kind.")
    status: OneOf[EventStatus] | None = strawberry.field(default=None, description="Its status.")
    start_date: DateMatch | None = strawberry.field(default=None, description="When it began.")
    end_date: DateMatch | None = strawberry.field(default=None, description="When it ended.")
    participant: ParticipantFilter | None = strawberry.field(
        default=None, description="Has a participant matching this."
    )
    partnership: PartnershipFilter | None = strawberry.field(
        default=None, description="Belongs to a partnership matching this."
    )

    matches = {
        "slug": filtering.text("slug"),
        "kind": filtering.one_of("kind"),
        "status": filtering.one_of("status"),
        "start_date": filtering.dates("start_date"),
        "end_date": filtering.dates("end_date"),
        "participant": filtering.reaches(many(PARTICIPANT, "event_id")),
        "partnership": filtering.reaches(one(PARTNERSHIP, "partnership_id")),
    }


EventsWhere = Annotated[
    EventFilter | None, strawberry.argument(description="Only events matching this.")
]
