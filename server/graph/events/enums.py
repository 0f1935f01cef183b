"""The vocabularies of events (docs/domain.md, Vocabularies)."""

import strawberry

from store import enums

EventKind = strawberry.enum(enums.EventKind, description="What kind of event it is.")
EventStatus = strawberry.enum(enums.EventStatus, description="Where an event stands.")
