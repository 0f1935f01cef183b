"""`orderBy` inputs and the sort keys they stand for.

Every ordering ends on the primary key, so rows that tie on the chosen fields still come in one
stable order and keyset cursors stay exact.
"""

from collections.abc import Mapping
from enum import Enum
from typing import Any, Protocol

import strawberry

from .enums import Direction
from .pagination import PRIMARY_KEY, SortKey

LAST_DATE = "9999~"  # sorts after every partial date, so undated rows come last


class _Order(Protocol):
    field: Any
    direction: Direction


def sort_keys(
    requested: list[_Order] | None, keys: Mapping[Enum, SortKey], default: Enum
) -> tuple[SortKey, ...]:
    chosen = requested or []
    found = [
        SortKey(
            keys[o.field].name,
            keys[o.field].column,
            o.direction == Direction.DESC,
            keys[o.field].null_as,
        )
        for o in chosen
    ] or [keys[default]]
    return (*found, PRIMARY_KEY)


@strawberry.enum(description="What members can be ordered by.")
class MemberOrderField(Enum):
    NAME = "name"
    SLUG = "slug"
    COUNTRY = "country"
    KIND = "kind"
    POPULATION = "population"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.enum(description="What organisations can be ordered by.")
class OrganisationOrderField(Enum):
    NAME = "name"
    SLUG = "slug"
    KIND = "kind"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.enum(description="What people can be ordered by.")
class PersonOrderField(Enum):
    NAME = "name"
    SLUG = "slug"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@strawberry.enum(description="What partnerships and events can be ordered by.")
class DatedOrderField(Enum):
    START_DATE = "start_date"
    TITLE = "title"
    KIND = "kind"
    STATUS = "status"
    SLUG = "slug"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


def _direction() -> Any:
    return strawberry.field(default=Direction.ASC, description="ASC unless given.")


@strawberry.input(description="One term of a members ordering; ties fall to the id.")
class MemberOrder:
    field: MemberOrderField = strawberry.field(description="What to order by.")
    direction: Direction = _direction()


@strawberry.input(description="One term of an organisations ordering; ties fall to the id.")
class OrganisationOrder:
    field: OrganisationOrderField = strawberry.field(description="What to order by.")
    direction: Direction = _direction()


@strawberry.input(description="One term of a people ordering; ties fall to the id.")
class PersonOrder:
    field: PersonOrderField = strawberry.field(description="What to order by.")
    direction: Direction = _direction()


@strawberry.input(description="One term of a partnerships or events ordering; ties fall to the id.")
class DatedOrder:
    field: DatedOrderField = strawberry.field(description="What to order by.")
    direction: Direction = _direction()


def _keys(fields: type[Enum], **special: SortKey) -> dict[Enum, SortKey]:
    return {f: special.get(f.name, SortKey(f.value, f.value)) for f in fields}


_NAME = SortKey("name", "sort_key")
BY_NAME = (_NAME, PRIMARY_KEY)
MEMBER_KEYS = _keys(
    MemberOrderField, NAME=_NAME, POPULATION=SortKey("population", "population", null_as=-1)
)
ORGANISATION_KEYS = _keys(OrganisationOrderField, NAME=_NAME)
PERSON_KEYS = _keys(PersonOrderField, NAME=_NAME)
DATED_KEYS = _keys(
    DatedOrderField, START_DATE=SortKey("start_date", "start_date", null_as=LAST_DATE)
)
