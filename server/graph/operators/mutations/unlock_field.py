"""`unlockField`: let feeds write a field again."""

import strawberry

from sync import locks

from ...access import OPERATOR_ONLY
from ...context import Ctx
from ..locks import LockPayload, target
from ..payloads import MutationError
from .lock_field import FieldName, Record


async def unlock_field(info: Ctx, record: Record, field: FieldName) -> LockPayload:
    found = await target(info, record, field)
    if isinstance(found, list):
        return LockPayload(lock=None, errors=found)
    if not await locks.unlock(info.context.engine, found.entity_type, found.record_id, field):
        message = f"{field!r} of {record} is not locked"
        error = MutationError(field="field", code="NOT_LOCKED", message=message)
        return LockPayload(lock=None, errors=[error])
    return LockPayload(lock=None, errors=[])


field = strawberry.mutation(
    resolver=unlock_field,
    description="Unlock a field: the next run writes what its feed says. Operator keys only.",
    metadata=OPERATOR_ONLY,
)
