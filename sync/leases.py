"""The lease on a feed: who may run it now, fenced by an epoch.

Claiming is one conditional UPDATE that only succeeds when nobody holds a live lease; it bumps
`lease_epoch`. Every later write of the run re-checks owner and epoch in its own transaction,
so a run that lost its lease (it stalled past `lease_until` and another worker claimed the feed)
can never commit. No advisory locks: they break behind connection pools and PgBouncer. Times
are the workers' clocks, which must agree to well within the lease's length.
"""

import datetime as dt

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store.registry import FEED
from store.tables import utcnow

from .errors import SyncError

TTL = dt.timedelta(seconds=60)


class LeaseLost(SyncError):
    """Another worker holds the feed now; this run must not write."""


async def claim(engine: AsyncEngine, feed_id: int, owner: str) -> int | None:
    """Take the feed's lease and return its new epoch, or None when someone else holds it."""
    now = utcnow()
    async with engine.begin() as connection:
        result = await connection.execute(
            update(FEED)
            .where(
                FEED.c.id == feed_id,
                or_(FEED.c.lease_until.is_(None), FEED.c.lease_until < now),
            )
            .values(lease_owner=owner, lease_until=now + TTL, lease_epoch=FEED.c.lease_epoch + 1)
            .returning(FEED.c.lease_epoch)
        )
        return result.scalar()


async def hold(connection: AsyncConnection, feed_id: int, owner: str, epoch: int) -> None:
    """Extend the lease inside the caller's transaction, or raise LeaseLost."""
    result = await connection.execute(
        update(FEED)
        .where(FEED.c.id == feed_id, FEED.c.lease_owner == owner, FEED.c.lease_epoch == epoch)
        .values(lease_until=utcnow() + TTL)
    )
    if result.rowcount != 1:
        raise LeaseLost(f"the lease on feed {feed_id} passed to another worker (epoch {epoch})")


async def release(engine: AsyncEngine, feed_id: int, owner: str, epoch: int) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            update(FEED)
            .where(FEED.c.id == feed_id, FEED.c.lease_owner == owner, FEED.c.lease_epoch == epoch)
            .values(lease_owner=None, lease_until=None)
        )
