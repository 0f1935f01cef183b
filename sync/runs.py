"""One sync run of one feed, from claiming its lease to recording how it ended (docs/feeds.md).

Claim the lease → fetch each page → parse it as a stream → apply it in batches, each batch in one
transaction with the run's progress and a lease check → retry items that waited for a
reference, as one more batch → for a complete snapshot, sweep what the feed no longer lists
(never more than its share at once) → advance ETag, Last-Modified and cursor in that same last
transaction. Any failure ends the run `failed` with the store as the last committed batch left
it, and backs the feed off. A dry run does all of it inside one transaction that is rolled back.

A run is judged on its own items, the ones the feed sent in it (`Counts.seen`). An invalid item
is quarantined; an item whose reference names nothing known yet waits (`feed_item.pending`) and
is tried again at the end of the run and in later runs. Both count as `quarantined` and make
the run `partial`, but only invalid items count towards the share that fails it
(`max_bad_share`): a reference not there yet is no fault of the feed (its record may come from
a feed that has not run yet), and failing would back the feed off and delay it further. Items
earlier runs left waiting are retried as well: one that resolves is applied and counted
(`created`, `updated`); one that still waits keeps its stored reason and counts for no later
run. A complete snapshot leaves alone the waiting items it no longer lists.

Reasons are stored whatever the outcome: an invalid item's with its batch, a waiting item's with
the last transaction or, when the run fails or is interrupted before that one commits (too many
bad items, a fetch or parse error after some batches, a failsafe refusal), in the transaction
that ends the run. A failed fetch records the HTTP status the feed last answered with.

A run that finds the lease taken ends `skipped_locked`, saying who holds it since when. A run
cancelled (its process told to stop) ends `abandoned` and releases the lease before it goes; a
process that dies without a word leaves its run `running` and its lease until `lease_until`,
and `reap` later finds the run by its stale heartbeat.
"""

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store import feeds
from store.feeds import RunStatus
from store.registry import FEED, ISSUE, RUN
from store.tables import as_utc, utcnow

from . import config, leases, metrics
from .apply import Applier, Counts, Issue
from .errors import ConfigError, HttpStatusError, SyncError
from .fetch import Limits, Policy, fetch
from .formats import parser_for

log = logging.getLogger("alliance.sync.runs")

BATCH = 500
MAX_PAGES = 1000
HEARTBEAT = leases.TTL / 3
BACKOFF_BASE = dt.timedelta(minutes=1)
BACKOFF_MAX = dt.timedelta(hours=6)
_SNIPPET = 200


def worker_name() -> str:
    """Who holds a lease: host, process and a random part, unique per process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class Outcome:
    run_id: int | None
    feed: str
    status: str
    counts: Counts
    error: str | None = None
    http_status: int | None = None
    bytes: int = 0


def backoff(failures: int) -> dt.timedelta:
    """How long a feed rests after `failures` failed runs in a row."""
    return min(BACKOFF_BASE * 2 ** max(failures - 1, 0), BACKOFF_MAX)


def headers_of(feed: feeds.Feed) -> dict[str, str]:
    """Request headers, secrets read from the environment (`env:NAME`)."""
    found = {}
    for name, value in (feed.headers or {}).items():
        if value.startswith("env:"):
            variable = value.removeprefix("env:")
            if variable not in os.environ:
                raise ConfigError(f"header {name} of feed {feed.slug} needs ${variable}, unset")
            value = os.environ[variable]
        found[name] = value
    return found


def _with_since(url: str, cursor: str | None) -> str:
    if cursor is None:
        return url
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode({"since": cursor})]))
    return urlunsplit(parts._replace(query=query))


class Run:
    """The state of one run while it goes; `execute` drives it."""

    def __init__(
        self,
        engine: AsyncEngine,
        feed: feeds.Feed,
        owner: str,
        epoch: int | None,
        run_id: int,
        dry_run: bool,
        progress: Callable[[Counts], None] | None,
    ):
        self.engine = engine
        self.feed = feed
        self.owner = owner
        self.epoch = epoch
        self.run_id = run_id
        self.dry_run = dry_run
        self.progress = progress
        self.applier = Applier(feed, run_id)
        self.http_status: int | None = None
        self.bytes = 0
        self.publisher: dict | None = None  # as the feed declares it; the API shows it
        self._dry: AsyncConnection | None = None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that holds the lease; in a dry run, a savepoint of the one that will
        be rolled back."""
        if self._dry is not None:
            async with self._dry.begin_nested():
                yield self._dry
            return
        async with self.engine.begin() as connection:
            await leases.hold(connection, self.feed.id, self.owner, self.epoch)
            yield connection

    async def _record(self, connection: AsyncConnection, issues: list[Issue], **fields) -> None:
        counts = self.applier.counts
        await connection.execute(
            update(RUN)
            .where(RUN.c.id == self.run_id)
            .values(
                heartbeat_at=utcnow(),
                http_status=self.http_status,
                bytes=self.bytes,
                items_seen=counts.seen,
                created=counts.created,
                updated=counts.updated,
                unchanged=counts.unchanged,
                deleted=counts.deleted,
                quarantined=counts.quarantined,
                **fields,
            )
        )
        if issues:
            await connection.execute(
                insert(ISSUE),
                [
                    {
                        "run_id": self.run_id,
                        "feed_id": self.feed.id,
                        "stage": i.stage,
                        "message": i.message,
                        "item_type": i.item_type,
                        "item_id": i.item_id,
                        "position": i.position,
                        "snippet": (i.snippet or "")[:_SNIPPET] or None,
                    }
                    for i in issues
                ],
            )
        if self.progress is not None:
            self.progress(counts)

    async def execute(self, client: httpx.AsyncClient) -> str:
        """Fetch, parse and apply every page; return how the run ended."""
        feed = self.feed
        limits = Limits(
            connect_timeout=feed.connect_timeout,
            read_timeout=feed.read_timeout,
            deadline=feed.deadline,
            max_bytes=feed.max_bytes,
        )
        policy = Policy(
            allow_private=feed.allow_private,
            allow_link_local=feed.allow_link_local,
            allow_cross_host_redirects=feed.allow_cross_host_redirects,
        )
        url: str | None = _with_since(feed.url, feed.cursor if feed.mode == "incremental" else None)
        etag, last_modified, cursor, complete = feed.etag, feed.last_modified, feed.cursor, True
        first = True
        for _ in range(MAX_PAGES):
            if url is None:
                break
            try:
                fetched = await fetch(
                    client,
                    url,
                    origin=feed.url,  # `next` pages are held to the feed's origin
                    headers=headers_of(feed),
                    etag=etag if first else None,
                    last_modified=last_modified if first else None,
                    limits=limits,
                    policy=policy,
                )
            except HttpStatusError as exc:
                self.http_status = exc.status
                raise
            self.http_status = fetched.status
            if fetched.status == 304:
                return RunStatus.NOT_MODIFIED
            if first:
                # Only now: a 304 must not pay for reading every item the feed ever sent.
                async with self.transaction() as connection:
                    await self.applier.load(connection)
                etag, last_modified = fetched.etag, fetched.last_modified
            first = False
            self.bytes += fetched.bytes
            with fetched.body:
                parsed = parser_for(feed.format)(fetched.body, **(feed.options or {}))
                entries = iter(parsed)
                while batch := list(itertools.islice(entries, BATCH)):
                    async with self.transaction() as connection:
                        issues = await self.applier.apply(connection, batch)
                        await self._record(connection, issues)
            meta = parsed.meta
            self.publisher = meta.publisher or self.publisher
            cursor = meta.cursor or cursor
            complete = complete and meta.complete is not False
            url = meta.next
        else:
            raise SyncError(f"more than {MAX_PAGES} pages; the feed's `next` links go on")
        return await self._finish(etag, last_modified, cursor, complete)

    async def _finish(self, etag, last_modified, cursor, complete: bool) -> str:
        feed, counts = self.feed, self.applier.counts
        if counts.seen and counts.invalid > feed.max_bad_share * counts.seen:
            raise SyncError(
                f"{counts.invalid} of {counts.seen} items are bad, more than the "
                f"feed allows ({feed.max_bad_share:.0%})"
            )
        sweeping = feed.mode == "snapshot" and complete
        # Committed on its own, as a batch is: a refused sweep then rolls back only the sweep,
        # and what the applier holds in memory stays what the store holds.
        async with self.transaction() as connection:
            waiting = await self.applier.retry_pending(connection, listed_only=sweeping)
            await self._record(connection, [])
        async with self.transaction() as connection:
            if sweeping:
                await self._sweep(connection)
            status = RunStatus.PARTIAL if counts.quarantined else RunStatus.SUCCEEDED
            await self._record(connection, waiting, cursor_after=cursor)
            await connection.execute(
                update(FEED)
                .where(FEED.c.id == feed.id)
                .values(
                    etag=etag,
                    last_modified=last_modified,
                    cursor=cursor,
                    publisher=self.publisher,
                    last_success_at=utcnow(),
                    consecutive_failures=0,
                    next_eligible_at=None,
                )
            )
        return status

    async def _sweep(self, connection: AsyncConnection) -> None:
        """Records the snapshot no longer lists go, unless that is too many at once."""
        live = self.applier.live_items()
        gone = live - self.applier.seen
        if not gone:
            return
        allowed = self.feed.max_delete_share * len(live)
        if len(gone) > allowed:
            raise SyncError(
                f"failsafe: the snapshot would delete {len(gone)} of {len(live)} records "
                f"({len(gone) / len(live):.0%}), more than the feed allows "
                f"({self.feed.max_delete_share:.0%}); nothing was deleted"
            )
        await self.applier.sweep(connection, gone)


async def run(
    engine: AsyncEngine,
    slug: str,
    client: httpx.AsyncClient,
    *,
    trigger: str = "manual",
    triggered_by: str | None = None,
    owner: str | None = None,
    dry_run: bool = False,
    progress: Callable[[Counts], None] | None = None,
) -> Outcome:
    """Run the feed `slug` once. Never raises for a feed's faults: they end up in the run.
    Cancelled, it ends the run `abandoned`, releases the lease, and raises CancelledError."""
    feed = await config.get(engine, slug)
    owner = owner or worker_name()
    if dry_run:
        return await _dry_run(engine, feed, client, owner, trigger, triggered_by, progress)
    epoch = await leases.claim(engine, feed.id, owner)
    held = None if epoch is not None else await _held_by(engine, feed.id)
    run_id = await _start(engine, feed, owner, epoch, trigger, triggered_by, held)
    if epoch is None:
        return Outcome(run_id, slug, RunStatus.SKIPPED_LOCKED, Counts(), held)
    state = Run(engine, feed, owner, epoch, run_id, False, progress)
    heartbeat = asyncio.create_task(_heartbeat(state))
    try:
        status = await state.execute(client)
        error = None
    except asyncio.CancelledError:
        heartbeat.cancel()
        await _close(state, RunStatus.ABANDONED, "interrupted: its process was told to stop")
        raise
    except (SyncError, httpx.HTTPError, OSError) as exc:
        status, error = RunStatus.FAILED, str(exc) or type(exc).__name__
    except Exception as exc:  # a bug or a database fault: the run still ends, and says so
        log.exception("run %s of %s failed unexpectedly", run_id, slug)
        status, error = RunStatus.FAILED, f"unexpected: {type(exc).__name__}: {exc}"[:2000]
    finally:
        heartbeat.cancel()
    return await _close(state, status, error)


async def _close(state: Run, status: str, error: str | None) -> Outcome:
    """Record how the run ended, then release its lease."""
    slug, run_id = state.feed.slug, state.run_id
    await _end(state.engine, state, status, error)
    await leases.release(state.engine, state.feed.id, state.owner, state.epoch)
    metrics.record(slug, status, state.applier.counts, utcnow())
    log.info("run %s of %s: %s", run_id, slug, status, extra={"error": error})
    return Outcome(
        run_id, slug, status, state.applier.counts, error, state.http_status, state.bytes
    )


def _when(moment: dt.datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC")


async def _held_by(engine: AsyncEngine, feed_id: int) -> str:
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


async def _dry_run(engine, feed, client, owner, trigger, triggered_by, progress) -> Outcome:
    async with engine.connect() as connection:
        outer = await connection.begin()
        run_id = await _insert_run(connection, feed, owner, None, trigger, triggered_by, True)
        state = Run(engine, feed, owner, None, run_id, True, progress)
        state._dry = connection
        try:
            status, error = await state.execute(client), None
        except (SyncError, httpx.HTTPError, OSError) as exc:
            status, error = RunStatus.FAILED, str(exc) or type(exc).__name__
            state.applier.waiting()  # counted, as a real run's end counts them
        await outer.rollback()
    counts = state.applier.counts
    return Outcome(None, feed.slug, status, counts, error, state.http_status, state.bytes)


async def _insert_run(
    connection, feed, owner, epoch, trigger, triggered_by, dry_run, error=None
) -> int:
    skipped = epoch is None and not dry_run
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
            status=RunStatus.SKIPPED_LOCKED if skipped else RunStatus.RUNNING,
            finished_at=utcnow() if skipped else None,
            error=error,
        )
        .returning(RUN.c.id)
    )


async def _start(engine, feed, owner, epoch, trigger, triggered_by, error) -> int:
    async with engine.begin() as connection:
        return await _insert_run(
            connection, feed, owner, epoch, trigger, triggered_by, False, error
        )


async def _end(engine: AsyncEngine, state: Run, status: str, error: str | None) -> None:
    """Record the run's end and counts in a transaction of its own. A run that failed or was
    interrupted stores here the reasons of the items still waiting, which its last transaction
    did not store."""
    feed, now = state.feed, utcnow()
    unstored = status in (RunStatus.FAILED, RunStatus.ABANDONED)
    async with engine.begin() as connection:
        await state._record(connection, state.applier.waiting() if unstored else [])
        values = {"status": status, "finished_at": now, "error": error}
        if status == RunStatus.FAILED:
            failures = feed.consecutive_failures + 1
            await connection.execute(
                update(FEED)
                .where(FEED.c.id == feed.id)
                .values(consecutive_failures=failures, next_eligible_at=now + backoff(failures))
            )
        elif status == RunStatus.NOT_MODIFIED:
            await connection.execute(
                update(FEED)
                .where(FEED.c.id == feed.id)
                .values(last_success_at=now, consecutive_failures=0, next_eligible_at=None)
            )
        await connection.execute(update(RUN).where(RUN.c.id == state.run_id).values(values))


async def _heartbeat(state: Run) -> None:
    """Keep the lease and show the run alive while a long fetch or batch goes on."""
    while True:
        await asyncio.sleep(HEARTBEAT.total_seconds())
        try:
            async with state.engine.begin() as connection:
                await leases.hold(connection, state.feed.id, state.owner, state.epoch)
                await connection.execute(
                    update(RUN).where(RUN.c.id == state.run_id).values(heartbeat_at=utcnow())
                )
        except leases.LeaseLost:
            log.warning("run %s lost its lease; its next commit will fail", state.run_id)
            return


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
