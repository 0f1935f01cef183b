"""One sync run of one feed, from claiming its lease to recording how it ended (docs/feeds.md).

Claim the lease → fetch each page → parse it as a stream → apply it in batches, each batch in one
transaction with the run's progress and a lease check → retry items that waited for a
reference, as one more batch → for a complete snapshot, sweep what the feed no longer lists
(never more than its share at once) → advance ETag, Last-Modified and cursor in that same last
transaction. Any failure ends the run `failed` with the store as the last committed batch left
it, and backs the feed off. A dry run goes the same way, every write a savepoint of one
transaction that is rolled back at the end (`_Writes`); the rows it writes are `sync.ledger`'s.

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
and `ledger.reap` later finds the run by its stale heartbeat.

Longer than 300 lines because a run's steps, from claim to end, read best in order in one place.
"""

import asyncio
import contextlib
import gc
import itertools
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store import feeds, versions
from store.feeds import RunStatus
from store.tables import utcnow

from . import config, leases, ledger, metrics
from .apply import Applier, Counts
from .errors import ConfigError, HttpStatusError, SyncError
from .fetch import Limits, Policy, fetch
from .formats import parser_for
from .items import ItemError

log = logging.getLogger("alliance.sync.runs")

BATCH = 500
MAX_PAGES = 1000
HEARTBEAT = leases.TTL / 3


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


@dataclass
class _Writes:
    """Where a run writes. A real run commits each write on its own, a batch holding the lease
    (docs/feeds.md, "What a run guarantees"); a dry run writes into `dry`, the one transaction
    rolled back at its end. So both go the same way through the same code."""

    engine: AsyncEngine
    feed_id: int
    owner: str
    epoch: int | None  # None: a dry run, which takes no lease, or a claim that failed
    dry: AsyncConnection | None = None

    @property
    def dry_run(self) -> bool:
        return self.dry is not None

    @contextlib.asynccontextmanager
    async def transaction(self, *, lease: bool = True) -> AsyncIterator[AsyncConnection]:
        """A transaction, holding the lease unless told otherwise (the run's first and last
        records, which are written whether or not it still holds it).

        A dry run writes those two records straight into its one transaction, and everything
        else in savepoints: SQLite's driver begins a transaction only at the first write, and a
        savepoint opened before that would commit when released."""
        if self.dry is None:
            async with self.engine.begin() as connection:
                if lease:
                    await leases.hold(connection, self.feed_id, self.owner, self.epoch)
                yield connection
                # Every write of the graph holds the lease; its commit raises the data version
                # (a heartbeat's too, needlessly but rarely). Last, so that concurrent runs
                # queue on the version row only for the end of their transactions.
                if lease:
                    await versions.bump(connection)
        elif lease:
            async with self.dry.begin_nested():
                yield self.dry
        else:
            yield self.dry

    async def heartbeat(self, run_id: int) -> None:
        """Keep the lease and show the run alive while a long fetch or batch goes on."""
        while not self.dry_run:  # a dry run holds no lease to keep
            await asyncio.sleep(HEARTBEAT.total_seconds())
            try:
                async with self.transaction() as connection:
                    await ledger.beat(connection, run_id)
            except leases.LeaseLost:
                log.warning("run %s lost its lease; its next commit will fail", run_id)
                return


@contextlib.asynccontextmanager
async def _writes(
    engine: AsyncEngine, feed: feeds.Feed, owner: str, dry_run: bool
) -> AsyncIterator[_Writes]:
    """A real run's lease, released when the run is over; or a dry run's one transaction,
    rolled back."""
    if dry_run:
        async with engine.connect() as connection:
            outer = await connection.begin()
            try:
                yield _Writes(engine, feed.id, owner, None, connection)
            finally:
                await outer.rollback()
        return
    epoch = await leases.claim(engine, feed.id, owner)
    try:
        yield _Writes(engine, feed.id, owner, epoch)
    finally:
        if epoch is not None:
            await leases.release(engine, feed.id, owner, epoch)


class Run:
    """The state of one run while it goes; `execute` drives it."""

    def __init__(
        self,
        writes: _Writes,
        feed: feeds.Feed,
        run_id: int,
        progress: Callable[[Counts], None] | None,
    ):
        self.writes = writes
        self.feed = feed
        self.run_id = run_id
        self.progress = progress
        self.applier = Applier(feed, run_id)
        self.http_status: int | None = None
        self.bytes = 0
        self.publisher: dict | None = None  # as the feed declares it; the API shows it

    async def _record(self, connection: AsyncConnection, issues: list[ItemError], **fields):
        await ledger.record(
            connection,
            self.run_id,
            self.feed.id,
            self.applier.counts,
            issues,
            http_status=self.http_status,
            bytes=self.bytes,
            **fields,
        )
        if self.progress is not None:
            self.progress(self.applier.counts)

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
                # Only now: a 304 reads nothing but the feed.
                async with self.writes.transaction() as connection:
                    await self.applier.load(connection)
                etag, last_modified = fetched.etag, fetched.last_modified
            first = False
            self.bytes += fetched.bytes
            with fetched.body:
                parsed = parser_for(feed.format)(fetched.body, **(feed.options or {}))
                entries = iter(parsed)
                while batch := list(itertools.islice(entries, BATCH)):
                    async with self.writes.transaction() as connection:
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
        async with self.writes.transaction() as connection:
            waiting = await self.applier.retry_pending(connection, listed_only=sweeping)
            await self._record(connection, [])
        async with self.writes.transaction() as connection:
            if sweeping:
                await self._sweep(connection)
            status = RunStatus.PARTIAL if counts.quarantined else RunStatus.SUCCEEDED
            await self._record(connection, waiting, cursor_after=cursor)
            await ledger.succeeded(
                connection,
                feed.id,
                etag=etag,
                last_modified=last_modified,
                cursor=cursor,
                publisher=self.publisher,
            )
        return status

    async def _sweep(self, connection: AsyncConnection) -> None:
        """Records the snapshot no longer lists go, unless that is too many at once."""
        gone, live = await self.applier.sweepable(connection)
        if not gone:
            return
        allowed = self.feed.max_delete_share * live
        if gone > allowed:
            raise SyncError(
                f"failsafe: the snapshot would delete {gone} of {live} records "
                f"({gone / live:.0%}), more than the feed allows "
                f"({self.feed.max_delete_share:.0%}); nothing was deleted"
            )
        await self.applier.sweep(connection)


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
    queued: int | None = None,
) -> Outcome:
    """Run the feed `slug` once; with `queued`, as that run, queued through the API and taken
    by this process (`ledger.take_queued`). Never raises for a feed's faults: they end up in
    the run. Cancelled, it ends the run `abandoned`, releases the lease, and raises
    CancelledError."""
    feed = await config.get(engine, slug)
    owner = owner or worker_name()
    async with _writes(engine, feed, owner, dry_run) as writes:
        claimed = dry_run or writes.epoch is not None
        held = None if claimed else await ledger.held_by(engine, feed.id)
        async with writes.transaction(lease=False) as connection:
            if queued is not None:
                run_id = queued
                await ledger.started(connection, run_id, feed, epoch=writes.epoch, skipped=held)
            else:
                run_id = await ledger.insert_run(
                    connection,
                    feed,
                    owner=owner,
                    epoch=writes.epoch,
                    trigger=trigger,
                    triggered_by=triggered_by,
                    dry_run=dry_run,
                    skipped=held,
                )
        if not claimed:
            return Outcome(run_id, slug, RunStatus.SKIPPED_LOCKED, Counts(), held)
        return await _drive(Run(writes, feed, run_id, progress), client)


async def _drive(state: Run, client: httpx.AsyncClient) -> Outcome:
    heartbeat = asyncio.create_task(state.writes.heartbeat(state.run_id))
    interrupted = False
    try:
        status, error = await state.execute(client), None
    except asyncio.CancelledError:
        interrupted = True  # ended below, once the exception and its frames are let go
    except (SyncError, httpx.HTTPError, OSError) as exc:
        status, error = RunStatus.FAILED, str(exc) or type(exc).__name__
    except Exception as exc:  # a bug or a database fault: the run still ends, and says so
        if state.writes.dry_run:
            raise  # nothing of a dry run stays to say so: the caller sees the fault itself
        log.exception("run %s of %s failed unexpectedly", state.run_id, state.feed.slug)
        status, error = RunStatus.FAILED, f"unexpected: {type(exc).__name__}: {exc}"[:2000]
    finally:
        heartbeat.cancel()
    if interrupted:
        await asyncio.wait([heartbeat])
        # A SQLite statement cut off between its step and its fetch lives on in the cycles of
        # the cancelled frames; until they are collected its connection, though closed, keeps
        # the write lock (sqlite3_close_v2 waits for open statements), and the run's last
        # records would wait for it until the busy timeout.
        gc.collect()
        await _close(state, RunStatus.ABANDONED, "interrupted: its process was told to stop")
        raise asyncio.CancelledError
    return await _close(state, status, error)


async def _close(state: Run, status: str, error: str | None) -> Outcome:
    """Record how the run ended, in a transaction of its own. A run that failed or was
    interrupted stores here the reasons of the items still waiting, which its last
    transaction did not store. A dry run's record goes with its transaction, and so it counts
    in no metric and no log."""
    slug, run_id, counts = state.feed.slug, state.run_id, state.applier.counts
    unstored = status in (RunStatus.FAILED, RunStatus.ABANDONED)
    async with state.writes.transaction(lease=False) as connection:
        await state._record(connection, state.applier.waiting() if unstored else [])
        await ledger.end(connection, state.feed, run_id, status, error)
    if state.writes.dry_run:
        return Outcome(None, slug, status, counts, error, state.http_status, state.bytes)
    metrics.record(slug, status, counts, utcnow())
    log.info("run %s of %s: %s", run_id, slug, status, extra={"error": error})
    return Outcome(run_id, slug, status, counts, error, state.http_status, state.bytes)
