"""The record of runs: the `sync_run` and `sync_issue` rows, and the feed's backoff.

What a run records, and when, is in docs/feeds.md ("What a run guarantees", "Statuses and
backoff"); operators read it with `alliance runs` (docs/operations.md). These functions write and
read rows in the transaction the caller gives them, so that a run commits its progress with the
batch it counts (`sync.runs`); the few that need one of their own take the engine.
"""

import datetime as dt
from dataclasses import dataclass, fields

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store import feeds
from store.feeds import RunStatus
from store.registry import FEED, ISSUE, RUN
from store.tables import as_utc, utcnow

from . import leases
from .apply import Counts
from .items import ItemError

BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(hours=6)
_SNIPPET = 200  # characters of an item kept with its issue


def backoff(failures: int) -> dt.timedelta:
    """How long a feed rests after `failures` failed runs in a row."""
    return min(BACKOFF_BASE * 2 ** max(failures - 1, 0), BACKOFF_MAX)


async def insert_run(
    connection: AsyncConnection,
    feed: feeds.Feed,
    *,
    owner: str,
    epoch: int | None,
    trigger: str,
    triggered_by: str | None,
    dry_run: bool,
    skipped: str | None = None,
) -> int:
    """A new run, `running`; or, given why (`skipped`), one that ended `skipped_locked`."""
    return await connection.scalar(
        insert(RUN)
        .values(
            feed_id=feed.id,
            trigger=trigger,
            triggered_by=triggered_by,
            owner=owner,
            lease_epoch=epoch or 0,
            dry_run=dry_run,
            cursor_before=feed.cursor,
            status=RunStatus.RUNNING if skipped is None else RunStatus.SKIPPED_LOCKED,
            finished_at=None if skipped is None else utcnow(),
            error=skipped,
        )
        .returning(RUN.c.id)
    )


async def queue(connection: AsyncConnection, feed_id: int, *, triggered_by: str | None) -> int:
    """A manual run asked for now and started by the next scheduler to look (`take_queued`)."""
    return await connection.scalar(
        insert(RUN)
        .values(
            feed_id=feed_id,
            trigger=feeds.RunTrigger.MANUAL,
            triggered_by=triggered_by,
            owner="-",
            status=RunStatus.QUEUED,
        )
        .returning(RUN.c.id)
    )


async def take_queued(engine: AsyncEngine, owner: str) -> list[tuple[int, str]]:
    """The queued runs this process now owns, with their feeds' slugs, oldest first. Each is
    taken by one conditional UPDATE, so of two schedulers looking at once only one takes it;
    it is `running` from then on, and reaped like any run if its process stops before it
    starts (`reap`)."""
    async with engine.connect() as connection:
        found = (
            await connection.execute(
                select(RUN.c.id, FEED.c.slug)
                .join(FEED, FEED.c.id == RUN.c.feed_id)
                .where(RUN.c.status == RunStatus.QUEUED, FEED.c.deleted_at.is_(None))
                .order_by(RUN.c.id)
            )
        ).all()
    taken = []
    for run_id, slug in found:
        async with engine.begin() as connection:
            took = await connection.execute(
                update(RUN)
                .where(RUN.c.id == run_id, RUN.c.status == RunStatus.QUEUED)
                .values(status=RunStatus.RUNNING, owner=owner, heartbeat_at=utcnow())
            )
        if took.rowcount:
            taken.append((run_id, slug))
    return taken


async def started(
    connection: AsyncConnection,
    run_id: int,
    feed: feeds.Feed,
    *,
    epoch: int | None,
    skipped: str | None = None,
) -> None:
    """A queued run this process took, started now: as `insert_run` would have made it."""
    now = utcnow()
    await connection.execute(
        update(RUN)
        .where(RUN.c.id == run_id)
        .values(
            lease_epoch=epoch or 0,
            cursor_before=feed.cursor,
            started_at=now,
            heartbeat_at=now,
            status=RunStatus.RUNNING if skipped is None else RunStatus.SKIPPED_LOCKED,
            finished_at=None if skipped is None else now,
            error=skipped,
        )
    )


def issue_row(run_id: int, feed_id: int, issue: ItemError) -> dict:
    """The `sync_issue` row of an item a run set aside."""
    return {
        "run_id": run_id,
        "feed_id": feed_id,
        "stage": issue.stage,
        "message": issue.message,
        "item_type": issue.item_type,
        "item_id": issue.item_id,
        "position": issue.position,
        "snippet": (issue.snippet or "")[:_SNIPPET] or None,
    }


async def record(
    connection: AsyncConnection,
    run_id: int,
    feed_id: int,
    counts: Counts,
    issues: list[ItemError],
    **fields,
) -> None:
    """The run's counts so far and `fields`, and the issues met since the last record."""
    await connection.execute(
        update(RUN)
        .where(RUN.c.id == run_id)
        .values(heartbeat_at=utcnow(), **counts.columns(), **fields)
    )
    if issues:
        await connection.execute(insert(ISSUE), [issue_row(run_id, feed_id, i) for i in issues])


async def beat(connection: AsyncConnection, run_id: int) -> None:
    """Show the run alive (`reap` takes a run whose beats stopped)."""
    await connection.execute(update(RUN).where(RUN.c.id == run_id).values(heartbeat_at=utcnow()))


async def end(
    connection: AsyncConnection, feed: feeds.Feed, run_id: int, status: str, error: str | None
) -> None:
    """How the run ended; a failure backs the feed off, a 304 counts as its success."""
    now = utcnow()
    if status == RunStatus.FAILED:
        failures = feed.consecutive_failures + 1
        await connection.execute(
            update(FEED)
            .where(FEED.c.id == feed.id)
            .values(consecutive_failures=failures, next_eligible_at=now + backoff(failures))
        )
    elif status == RunStatus.NOT_MODIFIED:
        await succeeded(connection, feed.id)
    await connection.execute(
        update(RUN).where(RUN.c.id == run_id).values(status=status, finished_at=now, error=error)
    )


async def succeeded(connection: AsyncConnection, feed_id: int, **state) -> None:
    """The feed succeeded: its backoff is forgotten, and `state` (validators, cursor,
    publisher) is what its next run starts from."""
    await connection.execute(
        update(FEED)
        .where(FEED.c.id == feed_id)
        .values(**state, last_success_at=utcnow(), consecutive_failures=0, next_eligible_at=None)
    )


def _when(moment: dt.datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


async def held_by(engine: AsyncEngine, feed_id: int) -> str:
    """Who holds the feed's lease, since when (the start of its run) and until when."""
    holder = and_(
        RUN.c.feed_id == FEED.c.id,
        RUN.c.owner == FEED.c.lease_owner,
        RUN.c.lease_epoch == FEED.c.lease_epoch,
    )
    async with engine.connect() as connection:
        lease = (
            await connection.execute(
                select(FEED.c.lease_owner, FEED.c.lease_until, RUN.c.started_at)
                .select_from(FEED.outerjoin(RUN, holder))
                .where(FEED.c.id == feed_id)
            )
        ).one()
    if lease.lease_owner is None:  # released since the claim failed
        return "held by a run that has just ended; run it again"
    since = f" since {_when(lease.started_at)}" if lease.started_at else ""
    return f"held by {lease.lease_owner}{since} (lease until {_when(lease.lease_until)})"


async def reap(engine: AsyncEngine, grace: dt.timedelta = leases.TTL * 2) -> int:
    """Mark `abandoned` the runs whose process stopped beating (killed, crashed) `grace` ago.

    `leases.TTL` is the least grace that never takes a live run: a run beats every TTL / 3,
    each beat extending its lease by TTL, so a run that beat within TTL still holds its lease,
    and one that did not has lost it to whoever claims the feed next."""
    now = utcnow()
    async with engine.begin() as connection:
        result = await connection.execute(
            update(RUN)
            .where(RUN.c.status == RunStatus.RUNNING, RUN.c.heartbeat_at < now - grace)
            .values(
                status=RunStatus.ABANDONED,
                finished_at=now,
                error="the process running it stopped (no heartbeat)",
            )
        )
    return result.rowcount


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


@dataclass(frozen=True)
class Quarantined:
    """An item a run quarantined, as `alliance issues` shows it."""

    run_id: int
    feed: str
    item_type: str | None
    item_id: str | None
    position: str | None
    stage: str
    message: str


_ISSUE_COLUMNS = [
    FEED.c.slug.label("feed") if f.name == "feed" else ISSUE.c[f.name] for f in fields(Quarantined)
]


async def quarantined(
    engine: AsyncEngine, *, feed: str | None = None, run: int | None = None, limit: int = 50
) -> list[Quarantined]:
    """The newest `limit` quarantined items, of one feed or one run if asked, in feed order."""
    query = select(*_ISSUE_COLUMNS).join(FEED, FEED.c.id == ISSUE.c.feed_id)
    if feed:
        query = query.where(FEED.c.slug == feed)
    if run is not None:
        query = query.where(ISSUE.c.run_id == run)
    async with engine.connect() as connection:
        rows = await connection.execute(query.order_by(ISSUE.c.id.desc()).limit(limit))
        return [Quarantined(**row._mapping) for row in reversed(rows.all())]
