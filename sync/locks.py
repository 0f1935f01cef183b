"""Locked fields: an operator's correction of a record that feeds must not overwrite.

A lock names a record (its type and id) and a field as feeds name it (`population`,
`sort_name`, `names`): the column the apply step leaves alone (`apply.Applier.locked`). The
columns the hub keeps for itself (`id`, `created_at`, `updated_at`, `deleted_at`) cannot be
locked, nor can records of a type feeds do not carry. Operators lock through the API
(`lockField`) or the CLI (`alliance feeds lock`).
"""

from sqlalchemy import Row, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from store.registry import LOCKED, RECORD_TABLES

KEPT_BY_THE_HUB = {"id", "created_at", "updated_at", "deleted_at"}


def refusal(entity_type: str, field: str) -> str | None:
    """Why `field` of a record of `entity_type` cannot be locked, or None."""
    table = RECORD_TABLES.get(entity_type)
    if table is None:
        return f"feeds do not write records of the type {entity_type!r}"
    if field not in table.c or field in KEPT_BY_THE_HUB:
        lockable = ", ".join(sorted(set(table.c.keys()) - KEPT_BY_THE_HUB))
        return f"a {entity_type} has no field {field!r} that feeds write; it has {lockable}"
    return None


async def lock(engine: AsyncEngine, entity_type: str, record_id: int, field: str, by: str) -> Row:
    """Lock the field (locking a locked one changes nothing); its lock."""
    key = (
        LOCKED.c.entity_type == entity_type,
        LOCKED.c.entity_id == record_id,
        LOCKED.c.field == field,
    )
    values = {"entity_type": entity_type, "entity_id": record_id, "field": field, "locked_by": by}
    async with engine.begin() as connection:
        try:
            async with connection.begin_nested():
                await connection.execute(LOCKED.insert().values(values))
        except IntegrityError:
            pass  # locked already, maybe by another operator at this moment
        return (await connection.execute(select(LOCKED).where(*key))).one()


async def unlock(engine: AsyncEngine, entity_type: str, record_id: int, field: str) -> bool:
    """Unlock the field; False when it was not locked."""
    async with engine.begin() as connection:
        done = await connection.execute(
            delete(LOCKED).where(
                LOCKED.c.entity_type == entity_type,
                LOCKED.c.entity_id == record_id,
                LOCKED.c.field == field,
            )
        )
    return done.rowcount > 0


async def by_slug(engine: AsyncEngine, entity_type: str, slug: str) -> int | None:
    """The id of the live record of `entity_type` with `slug`, for the CLI's `TYPE/SLUG`."""
    table = RECORD_TABLES.get(entity_type)
    if table is None or "slug" not in table.c:
        return None
    async with engine.connect() as connection:
        return await connection.scalar(
            select(table.c.id).where(table.c.slug == slug, table.c.deleted_at.is_(None))
        )


async def listed(engine: AsyncEngine) -> list[Row]:
    async with engine.connect() as connection:
        return list(await connection.execute(select(LOCKED).order_by(LOCKED.c.id.desc())))
