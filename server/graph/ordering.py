"""`orderBy` terms and the sort keys they stand for (docs/api.md, Ordering).

Every ordering ends on the primary key, so rows that tie on the chosen fields still come in one
stable order and keyset cursors stay exact. Each area declares its order fields and their keys.
"""

from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any, Protocol

import strawberry

from .pagination import PRIMARY_KEY, SortKey

LAST_DATE = "9999~"  # sorts after every partial date, so undated rows come last


@strawberry.enum(description="Sort direction.")
class Direction(Enum):
    ASC = "asc"
    DESC = "desc"


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


def order_term(name: str, fields: type[Enum], ordering: str) -> type:
    """The input of one `orderBy` term over `fields` (`MemberOrder`): a field and a direction.

    `ordering` names what is ordered, with its article: "a members".
    """
    term = type(
        name,
        (),
        {
            "__annotations__": {"field": fields, "direction": Direction},
            "field": strawberry.field(description="What to order by."),
            "direction": strawberry.field(default=Direction.ASC, description="ASC unless given."),
        },
    )
    return strawberry.input(
        term, description=f"One term of {ordering} ordering; ties fall to the id."
    )


def order_by(term: type, default: str) -> Any:
    """The `orderBy` argument: a list of `term`s, ordering by `default` when none is given."""
    return Annotated[
        list[term] | None,
        strawberry.argument(description=f"Sort terms; by {default} unless given."),
    ]


def keys(fields: type[Enum], **special: SortKey) -> dict[Enum, SortKey]:
    """A sort key per order field: its column of the same name, unless `special` says else."""
    return {f: special.get(f.name, SortKey(f.value, f.value)) for f in fields}


NAME = SortKey("name", "sort_key")
BY_NAME = (NAME, PRIMARY_KEY)
