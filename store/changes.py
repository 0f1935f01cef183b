"""Reading the change log (docs/api.md, "Changes"): its cursors, and its pages in commit order.

The log is written by triggers (migration 0011) and versioned by `versions.bump`; a cursor is a
position in it, (data version, row), and the API's `changes` and the published feed's `since`
take the same cursors.
"""

import base64
import binascii
from collections.abc import Sequence

from sqlalchemy import Select, select, tuple_

from .registry import CHANGE

Position = tuple[int, int]


def cursor(version: int, change_id: int) -> str:
    return base64.urlsafe_b64encode(f"Change:{version}:{change_id}".encode()).decode().rstrip("=")


def position(given: str) -> Position | None:
    """The position a cursor names, or None for one the hub did not make."""
    try:
        decoded = base64.urlsafe_b64decode(given + "=" * (-len(given) % 4)).decode("ascii")
        kind, version, change_id = decoded.split(":")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    if kind != "Change" or not all(p.isdigit() and len(p) <= 18 for p in (version, change_id)):
        return None
    return int(version), int(change_id)


def page(after: Position | None, limit: int, types: Sequence[str] | None = None) -> Select:
    """The next `limit` changes after `after`, oldest first; committed ones only."""
    query = (
        select(CHANGE)
        .where(CHANGE.c.version.is_not(None))
        .order_by(CHANGE.c.version, CHANGE.c.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(tuple_(CHANGE.c.version, CHANGE.c.id) > tuple_(*after))
    if types is not None:
        query = query.where(CHANGE.c.entity_type.in_(list(types)))
    return query


# Where the log stands: its newest committed change.
LATEST = (
    select(CHANGE.c.version, CHANGE.c.id)
    .where(CHANGE.c.version.is_not(None))
    .order_by(CHANGE.c.version.desc(), CHANGE.c.id.desc())
    .limit(1)
)
