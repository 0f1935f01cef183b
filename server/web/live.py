"""What an API process pushes to its subscribers (docs/api.md, "Subscriptions"): the change
log's new rows and the progress of sync runs, each read once for all of the process's
subscribers.

The change log is read on from where this process last read it whenever the data version moves.
On PostgreSQL the data version's listening connection (`data_version.Listener`) tells, from the
NOTIFY of each commit, and again after it reconnects, so a lost connection costs a delay and no
change. On SQLite, where a commit of another process sends no word, the version row is read
every `POLL_SECONDS` while anyone subscribes.

Each subscriber has a bounded queue. One that falls behind (a slow client, or the burst of a
first sync) is not waited for: its queue stops taking rows, and it reads on from the log by
itself, from its own position, until it has caught up; a subscriber that starts from a cursor
reads its backlog the same way. So every subscriber sees every change once and in order, and
none holds up another.

Runs are read every `RUN_POLL_SECONDS` while anyone follows them: those not ended, and those
that ended since the last look.
"""

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Collection
from functools import partial
from typing import Any

from sqlalchemy import Row, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from server.graph.operators.types import RUNS, SyncRun
from store import changes, versions
from store.changes import Position
from store.feeds import RunStatus
from store.registry import FEED, RUN

from .tasks import background

log = logging.getLogger("alliance.live")

PAGE = 500  # changes read by one statement
POLL_SECONDS = 0.1  # SQLite: how often the data version is looked at
CHECK_SECONDS = 30.0  # PostgreSQL: the log is read this often even with no word
RUN_POLL_SECONDS = 0.5
FIRST_BACKOFF, LAST_BACKOFF = 0.1, 10.0
OPEN = (RunStatus.QUEUED, RunStatus.RUNNING)


def _position(row: Row[Any]) -> Position:
    return row.version, row.id


async def _retrying(name: str, follow) -> None:
    """Run `follow`, which never returns, for good: after a fault (the database went away),
    again after a backoff that starts over once an attempt has lasted longer than the longest
    backoff (a new fault, not the same one going on)."""
    backoff = FIRST_BACKOFF
    while True:
        started = time.monotonic()
        try:
            await follow()
        except Exception as exc:
            if time.monotonic() - started > LAST_BACKOFF:
                backoff = FIRST_BACKOFF
            log.warning("%s down, again in %.1f s: %s", name, backoff, exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, LAST_BACKOFF)


class _Subscriber:
    def __init__(self, types: frozenset[str] | None, limit: int):
        self.types = types
        self.limit = limit
        self.rows: deque[Row[Any]] = deque()
        self.behind = False  # rows were dropped: read on from the log
        self.ready = asyncio.Event()

    def offer(self, rows: list[Row[Any]]) -> None:
        if self.behind:
            return
        wanted = rows if self.types is None else [r for r in rows if r.entity_type in self.types]
        if not wanted:
            return
        if len(self.rows) + len(wanted) > self.limit:
            self.behind = True
        else:
            self.rows.extend(wanted)
        self.ready.set()


class ChangeTail:
    """The change log's newest rows, read once for every subscriber of this process."""

    def __init__(self, engine: AsyncEngine, queue: int, *, poll: bool):
        self._engine = engine
        self._queue = queue
        self._poll = poll  # SQLite: look at the version, nobody tells
        self._position: Position = (0, 0)
        self._version: int | None = None
        self._subscribers: set[_Subscriber] = set()
        self._moved = asyncio.Event()

    def moved(self, _version: int | None = None) -> None:
        """Read on: the data version moved, or may have (a listener that reconnected)."""
        self._moved.set()

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def running(self) -> contextlib.AbstractAsyncContextManager[None]:
        return background(partial(_retrying, "change tail", self._follow), "alliance-tail")

    async def _follow(self) -> None:
        while True:
            wait = POLL_SECONDS if self._poll else CHECK_SECONDS
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._moved.wait(), wait)
            self._moved.clear()
            if not self._subscribers:
                continue
            if self._poll:
                async with self._engine.connect() as connection:
                    version = await versions.current(connection)
                if version == self._version:
                    continue
                self._version = version
            await self._read_on()

    async def _read(self, after: Position, types: frozenset[str] | None) -> list[Row[Any]]:
        async with self._engine.connect() as connection:
            query = changes.page(after, PAGE, None if types is None else sorted(types))
            return list(await connection.execute(query))

    async def _read_on(self) -> None:
        while True:
            rows = await self._read(self._position, None)
            if not rows:
                return
            # Taken and handed out with no await between: a subscriber that joins sees the
            # position the rows it is handed from then on follow.
            self._position = max(self._position, _position(rows[-1]))
            for subscriber in list(self._subscribers):
                subscriber.offer(rows)
            if len(rows) < PAGE:
                return

    async def _latest(self) -> Position:
        async with self._engine.connect() as connection:
            found = (await connection.execute(changes.LATEST)).first()
        return (0, 0) if found is None else (found.version, found.id)

    async def changes(
        self, after: Position | None, types: Collection[str] | None
    ) -> AsyncIterator[list[Row[Any]]]:
        """Batches of the changes after `after` (or from now), oldest first, as they commit."""
        wanted = None if types is None else frozenset(types)
        subscriber = _Subscriber(wanted, self._queue)
        latest = await self._latest()  # "from now": after what was committed when it came
        if not self._subscribers:  # nobody followed the log lately: on from where it stands
            self._position = max(self._position, latest)
        self._subscribers.add(subscriber)
        try:
            # The tail hands it every change after its position from now on; one it read since
            # `latest` was counted is, for this subscriber, before "now".
            position = max(self._position, latest) if after is None else after
            catch_up = after is not None
            while True:
                if catch_up or subscriber.behind:
                    # Every change up to the tail's position, when it took this subscriber in or
                    # stopped queueing for it, is committed: reading the log to its end now
                    # reaches it, and the queue holds what comes after.
                    subscriber.behind, catch_up = False, False
                    subscriber.rows.clear()
                    while True:
                        rows = await self._read(position, wanted)
                        if rows:
                            position = _position(rows[-1])
                            yield rows
                        if len(rows) < PAGE:
                            break
                    continue
                if not subscriber.rows:
                    subscriber.ready.clear()
                    await subscriber.ready.wait()
                    continue
                batch = []
                while subscriber.rows and len(batch) < PAGE:
                    row = subscriber.rows.popleft()
                    if _position(row) > position:  # not already read from the log
                        batch.append(row)
                if batch:
                    position = _position(batch[-1])
                    yield batch
        finally:
            self._subscribers.discard(subscriber)


def _state(row: Row[Any]) -> tuple:
    """What a run's followers are told: its fields as the API shows them, heartbeats aside."""
    mapping = row._mapping
    return tuple(mapping[name] for name in SyncRun.__annotations__ if name in mapping)


class _Follower:
    def __init__(self, feed: str | None, run: int | None):
        self.feed = feed
        self.run = run
        self.runs: dict[int, Row[Any]] = {}  # the newest state of each run not yet handed out
        self.ready = asyncio.Event()

    def wants(self, row: Row[Any]) -> bool:
        return (self.feed is None or row.feed == self.feed) and (
            self.run is None or row.id == self.run
        )

    def offer(self, row: Row[Any]) -> None:
        if self.wants(row):
            self.runs.pop(row.id, None)  # a newer state takes the older's place, at the end
            self.runs[row.id] = row
            self.ready.set()


class RunWatch:
    """The runs of every feed as they start, progress and end, looked at while followed."""

    def __init__(self, engine: AsyncEngine):
        self._engine = engine
        self._followers: set[_Follower] = set()
        self._known: dict[int, tuple] = {}  # runs not ended at the last look, by id
        self._newest = 0  # the newest run id looked at
        self._woken = asyncio.Event()

    def running(self) -> contextlib.AbstractAsyncContextManager[None]:
        return background(partial(_retrying, "run watch", self._follow), "alliance-runs")

    async def _follow(self) -> None:
        while True:
            if not self._followers:
                self._woken.clear()
                await self._woken.wait()
            await self._look()
            await asyncio.sleep(RUN_POLL_SECONDS)

    async def _look(self) -> None:
        query = RUNS.where(
            or_(RUN.c.status.in_(OPEN), RUN.c.id.in_(list(self._known)), RUN.c.id > self._newest)
        ).order_by(RUN.c.id)
        async with self._engine.connect() as connection:
            rows = list(await connection.execute(query))
        known: dict[int, tuple] = {}
        for row in rows:
            state = _state(row)
            if row.status in OPEN:
                known[row.id] = state
            if self._known.get(row.id) != state:
                for follower in list(self._followers):
                    follower.offer(row)
            self._newest = max(self._newest, row.id)
        self._known = known

    async def _now(self, feed: str | None, run: int | None) -> list[Row[Any]]:
        query = RUNS.order_by(RUN.c.id)
        if run is not None:
            query = query.where(RUN.c.id == run)
        else:
            query = query.where(RUN.c.status.in_(OPEN))
        if feed is not None:
            query = query.where(FEED.c.slug == feed)
        async with self._engine.connect() as connection:
            if not self._followers:  # nobody looked lately: new runs are those from now on
                self._newest = (await connection.scalar(select(func.max(RUN.c.id)))) or 0
                self._known = {}
            return list(await connection.execute(query))

    async def runs(self, feed: str | None, run: int | None) -> AsyncIterator[Row[Any]]:
        """Each state of the runs of `feed` (or of every feed), or of the one run `run`: first
        those not ended (or the run as it stands), then each change; after the one run's end,
        no more."""
        follower = _Follower(feed, run)
        shown: dict[int, tuple] = {}
        for row in await self._now(feed, run):
            shown[row.id] = _state(row)
            yield row
            if run is not None and row.status not in OPEN:
                return
        self._followers.add(follower)
        self._woken.set()
        try:
            while True:
                if not follower.runs:
                    follower.ready.clear()
                    await follower.ready.wait()
                    continue
                row = follower.runs.pop(next(iter(follower.runs)))  # the oldest first
                state = _state(row)
                if shown.get(row.id) == state:
                    continue
                shown[row.id] = state
                if row.status not in OPEN:
                    shown.pop(row.id)
                yield row
                if run is not None and row.status not in OPEN:
                    return
        finally:
            self._followers.discard(follower)


class Pushed:
    """What the process pushes (`server.graph.context.Pushed`): the log's tail, the runs."""

    def __init__(self, tail: ChangeTail, runs: RunWatch):
        self.changes = tail.changes
        self.runs = runs.runs
