"""`unlockField`: let feeds write a field again."""

import strawberry
from sqlalchemy import delete

from store.registry import LOCKED

from ...access import OPERATOR_ONLY
from ...context import Ctx
from ..locks import LockPayload, target
from ..payloads import MutationError
from .lock_field import FieldName, Record


async def unlock_field(info: Ctx, record: Record, field: FieldName) -> LockPayload:
    found = await target(info, record, field)
    if isinstance(found, list):
        return LockPayload(lock=None, errors=found)
    async with info.context.engine.begin() as connection:
        done = await connection.execute(
            delete(LOCKED).where(
                LOCKED.c.entity_type == found.entity_type,
                LOCKED.c.entity_id == found.record_id,
                LOCKED.c.field == found.field,
            )
        )
    if done.rowcount == 0:
        message = f"{field!r} of {record} is not locked"
        return LockPayload(
            lock=None, errors=[MutationError(field="field", code="NOT_LOCKED", message=message)]
        )
    return LockPayload(lock=None, errors=[])


field = strawberry.mutation(
    resolver=unlock_field,
    description="Unlock a field: the next run writes what its feed says. Operator keys only.",
    metadata=OPERATOR_ONLY,
)
