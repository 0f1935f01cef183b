"""The data version: one number every commit that changes the graph raises, in that commit's
own transaction (each sync batch, the seed). API processes key the answers they keep by it
(docs/api.md, "Caching"; docs/operations.md, "The data version").

On PostgreSQL `bump` also notifies `CHANNEL` with the new number. NOTIFY is transactional: a
listener hears it once the transaction has committed, so only when the rows are visible to it,
and never for a transaction rolled back (a dry run).
"""

from sqlalchemy import Text, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from .registry import CHANGE, DATA_VERSION

CHANNEL = "alliance_data_version"

_BUMP = (
    DATA_VERSION.update()
    .where(DATA_VERSION.c.id == 1)
    .values(version=DATA_VERSION.c.version + 1)
    .returning(DATA_VERSION.c.version)
)
# On PostgreSQL one statement raises the number and queues its notification.
_bumped = _BUMP.cte("bumped")
_BUMP_AND_NOTIFY = select(_bumped.c.version, func.pg_notify(CHANNEL, cast(_bumped.c.version, Text)))

CURRENT = select(DATA_VERSION.c.version).where(DATA_VERSION.c.id == 1)


async def bump(connection: AsyncConnection) -> int:
    """Raise the version in the caller's transaction, and give it to the change rows the
    transaction's writes logged (migration 0011); the new number. The row stays locked until
    that transaction ends, so call this last in it: writers queue here, not earlier. Under that
    lock no other writer takes a version, so versions, and the log, follow commit order."""
    statement = _BUMP_AND_NOTIFY if connection.dialect.name == "postgresql" else _BUMP
    version = (await connection.execute(statement)).scalar_one()
    # Another transaction's rows are not seen here until it commits, and it commits versioned.
    await connection.execute(
        CHANGE.update().where(CHANGE.c.version.is_(None)).values(version=version)
    )
    return version


async def current(connection: AsyncConnection) -> int:
    return (await connection.execute(CURRENT)).scalar_one()
