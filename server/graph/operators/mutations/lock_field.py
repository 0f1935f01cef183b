"""`lockField`: keep an operator's correction of a record: feeds leave the field alone."""

from typing import Annotated

import strawberry
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from store.registry import LOCKED

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
    key = (
        LOCKED.c.entity_type == found.entity_type,
        LOCKED.c.entity_id == found.record_id,
        LOCKED.c.field == found.field,
    )
    values = {
        "entity_type": found.entity_type,
        "entity_id": found.record_id,
        "field": field,
        "locked_by": info.context.caller.name,
    }
    async with info.context.engine.begin() as connection:
        try:
            async with connection.begin_nested():
                await connection.execute(LOCKED.insert().values(values))
        except IntegrityError:
            pass  # locked already: locking again changes nothing
        row = (await connection.execute(select(LOCKED).where(*key))).one()
    return LockPayload(lock=LockedField.from_row(row), errors=[])


field = strawberry.mutation(
    resolver=lock_field,
    description="Lock a field of a record: from the next run on, feeds leave it as it is. "
    "Locking a locked field changes nothing. Operator keys only.",
    metadata=OPERATOR_ONLY,
)
