"""How an API process knows the data version (`store.versions`) without a query per request.

On PostgreSQL a connection of its own LISTENs on `store.versions.CHANNEL`: it reads the version
when it connects, then takes each new one from its notification, and reads it again every
`CHECK_SECONDS` (which also finds a connection that died without a word). While that connection
is down the version is unknown, and the answer cache is bypassed rather than trusted
(docs/api.md, "Caching"); it connects again after 0.1 s, doubling up to 10 s. Whatever follows
the log (`live.ChangeTail`) is told each version learned, so it reads on after a reconnect too.

On SQLite the version row is read at the start of every request, through the request's own
connection: one read by primary key, where `PRAGMA data_version` would have to be asked of every
connection of the pool anyway.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from server.graph.reader import Reader
from store import versions

from . import metrics
from .tasks import background

log = logging.getLogger("alliance.data_version")

CHECK_SECONDS = 30.0
CONNECT_SECONDS = 10.0
FIRST_BACKOFF, LAST_BACKOFF = 0.1, 10.0
_CURRENT = str(
    versions.CURRENT.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
)


class RowCheck:
    """SQLite: the version as the request's connection reads it."""

    async def version(self, reader: Reader) -> int | None:
        try:
            found = await reader.scalar(versions.CURRENT)
        except SQLAlchemyError as exc:  # an unmigrated database: answer, but keep nothing
            log.warning("the data version cannot be read: %s", exc)
            return None
        metrics.DATA_VERSION.set(found)
        return found


class Listener:
    """PostgreSQL: the newest version notified to this process's listening connection, or None
    while that connection is down."""

    def __init__(self, database_url: str):
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._known: int | None = None
        self._listened = False  # since the last attempt to connect
        self._told: list[Callable[[int], None]] = []

    def tell(self, callback: Callable[[int], None]) -> None:
        """Have `callback` called with each version learned."""
        self._told.append(callback)

    async def version(self, _reader: Reader) -> int | None:
        return self._known

    def _learn(self, version: int | None) -> None:
        # Notifications come in commit order; `max` keeps a late read from going back.
        if version is not None and self._known is not None:
            version = max(version, self._known)
        self._known = version
        metrics.DATA_VERSION.set(-1 if version is None else version)
        if version is not None:
            for callback in self._told:
                callback(version)

    def _heard(self, _connection, _pid: int, _channel: str, payload: str) -> None:
        self._learn(int(payload))

    def running(self) -> contextlib.AbstractAsyncContextManager[None]:
        return background(self._run, "alliance-data-version")

    async def _run(self) -> None:
        backoff = FIRST_BACKOFF
        while True:
            try:
                await self._listen()
            except Exception as exc:  # any fault of the connection: connect again, with backoff
                log.warning("data version listener down, again in %.1f s: %s", backoff, exc)
            if self._listened:  # a new outage, not the same one going on
                self._listened = False
                backoff = FIRST_BACKOFF
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, LAST_BACKOFF)

    async def _listen(self) -> None:
        connection = await asyncpg.connect(
            self._dsn,
            timeout=CONNECT_SECONDS,
            server_settings={"application_name": "alliance data version listener"},
        )
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        try:
            await connection.add_listener(versions.CHANNEL, self._heard)
            # Read after LISTEN: a version committed in between is heard, not missed.
            self._learn(await connection.fetchval(_CURRENT, timeout=CONNECT_SECONDS))
            self._listened = True
            log.info("listening for data versions from %s", self._known)
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), CHECK_SECONDS)
                if not lost.is_set():
                    self._learn(await connection.fetchval(_CURRENT, timeout=CONNECT_SECONDS))
            raise ConnectionError("the listening connection closed")
        finally:
            self._known = None
            metrics.DATA_VERSION.set(-1)
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)


def watch(database_url: str) -> RowCheck | Listener:
    return Listener(database_url) if database_url.startswith("postgresql") else RowCheck()
