"""The root fields of this area: people, and one by slug."""

import strawberry

from ..connection import connection_field
from ..lookups import lookup_field
from .listing import PEOPLE


@strawberry.type(description="Reading people.")
class PersonQuery:
    people = connection_field(PEOPLE, "People, filtered and ordered.")
    person = lookup_field(PEOPLE, "person", "A person by slug.")
