"""`lockField`: keep an operator's correction of a record: feeds leave the field alone."""

from typing import Annotated

import strawberry

from sync import locks

from ...access import OPERATOR_ONLY
from ...context import Ctx
from ..locks import LockedField, LockPayload, target

Record = Annotated[strawberry.ID, strawberry.argument(description="The record's global id.")]
FieldName = Annotated[
    str, strawberry.argument(description="The field as feeds name it: `sort_name`, `names`.")
]


async def lock_field(info: Ctx, record: Record, field: FieldName) -> LockPayload:
    found = await target(info, record, field)
    if isinstance(found, list):
        return LockPayload(lock=None, errors=found)
    row = await locks.lock(
        info.context.engine,
        found.entity_type,
        found.record_id,
        found.field,
        info.context.caller.name,
    )
    return LockPayload(lock=LockedField.from_row(row), errors=[])


field = strawberry.mutation(
    resolver=lock_field,
    description="Lock a field of a record: from the next run on, feeds leave it as it is. "
    "Locking a locked field changes nothing. Operator keys only.",
    metadata=OPERATOR_ONLY,
)
