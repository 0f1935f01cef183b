"""The record of sync runs (docs/feeds.md, the run record): `recent_runs` reads it back, newest
first, for `alliance runs` (docs/operations.md#feeds-and-runs)."""

import datetime as dt
from dataclasses import dataclass, fields

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from store.registry import FEED, RUN


@dataclass(frozen=True)
class RecentRun:
    """One run as an operator reads it: which feed, how it was started, how it ended."""

    id: int
    feed: str  # the feed's slug
    trigger: str
    started_at: dt.datetime
    status: str
    http_status: int | None
    items_seen: int
    created: int
    updated: int
    deleted: int
    quarantined: int
    error: str | None


# Each field from the run's column of its name, `feed` from the feed's slug: a field added is read.
_RECENT_COLUMNS = [
    FEED.c.slug.label("feed") if f.name == "feed" else RUN.c[f.name] for f in fields(RecentRun)
]


async def recent_runs(
    engine: AsyncEngine, *, feed: str | None = None, limit: int = 20
) -> list[RecentRun]:
    """The newest `limit` runs, of every feed or of the feed with slug `feed`; removed feeds'
    runs included, since what they did stays."""
    query = (
        select(*_RECENT_COLUMNS)
        .join(FEED, FEED.c.id == RUN.c.feed_id)
        .order_by(RUN.c.id.desc())
        .limit(limit)
    )
    if feed:
        query = query.where(FEED.c.slug == feed)
    async with engine.connect() as connection:
        rows = await connection.execute(query)
        return [RecentRun(**row._mapping) for row in rows]
