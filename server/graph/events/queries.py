"""The root fields of this area: events, one by slug, and their counts."""

import strawberry

from ..connection import connection_field
from ..lookups import lookup_field
from . import counts
from .listing import EVENTS


@strawberry.type(description="Reading events.")
class EventQuery:
    events = connection_field(EVENTS, "Events, filtered and ordered (by start date unless told).")
    event = lookup_field(EVENTS, "event", "An event by slug.")
    event_counts = strawberry.field(
        resolver=counts.event_counts,
        description="Events matching the filter, counted by the given fields.",
    )
