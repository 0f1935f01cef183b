"""Locked fields as the API shows them, and the record and field a lock names: a record by its
global id, a field as feeds name it (`sync/locks.py` says which may be locked)."""

import datetime as dt
from dataclasses import dataclass
from typing import Any, Self

import strawberry
from sqlalchemy import Table, select

from store.registry import ITEM_TYPES
from sync import locks

from .. import ids
from ..context import Ctx
from ..errors import InvalidId
from ..nodes import NODE_TYPES
from .payloads import MutationError

TYPE_OF = {cls.entity_type: name for name, cls in NODE_TYPES.items() if cls.entity_type}


@strawberry.type(description="A field an operator locked: feeds leave it as it is.")
class LockedField:
    record_id: strawberry.Private[int]
    entity_type: strawberry.Private[str]
    field: str = strawberry.field(description="The field, as feeds name it: `sort_name`.")
    locked_by: str | None = strawberry.field(description="Who locked it: a key's name.")
    locked_at: dt.datetime = strawberry.field(description="When.")

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            record_id=row.entity_id,
            entity_type=row.entity_type,
            field=row.field,
            locked_by=row.locked_by,
            locked_at=row.locked_at,
        )

    @strawberry.field(description="The global id of the record.")
    def record(self) -> strawberry.ID:
        return strawberry.ID(ids.encode(TYPE_OF[self.entity_type], self.record_id))


@strawberry.type(description="A lock as a mutation left it, or why it could not.")
class LockPayload:
    lock: LockedField | None = strawberry.field(
        description="The lock; null once unlocked, or when errors are given."
    )
    errors: list[MutationError] = strawberry.field(description="Empty when it was done.")


@dataclass(frozen=True)
class Target:
    entity_type: str
    record_id: int
    field: str


async def target(info: Ctx, record: str, field: str) -> Target | list[MutationError]:
    """The record and column a lock names, or why it names none."""
    try:
        type_name, pk = ids.decode(record)
    except InvalidId as exc:
        return [MutationError(field="record", code="INVALID_ID", message=str(exc))]
    cls = NODE_TYPES.get(type_name)
    entity_type = getattr(cls, "entity_type", "")
    refused = locks.refusal(entity_type, field)
    if refused is not None and entity_type not in ITEM_TYPES:
        return [MutationError(field="record", code="INVALID_ID", message=refused)]
    table: Table = cls.table
    found = await info.context.reader.scalar(
        select(table.c.id).where(table.c.id == pk, table.c.deleted_at.is_(None))
    )
    if found is None:
        message = f"no {type_name} has the id {record!r}"
        return [MutationError(field="record", code="NOT_FOUND", message=message)]
    if refused is not None:
        return [MutationError(field="field", code="INVALID_FIELD", message=refused)]
    return Target(entity_type, pk, field)
